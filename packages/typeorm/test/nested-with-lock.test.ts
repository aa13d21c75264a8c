import { describe, expect, it } from 'vitest'
import { LockLostError, createLockManager } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { useEnv } from './support/env.js'
import { rejection, sleep, unique } from './support/helpers.js'

/**
 * A `withLock` inside another one's `fn`, on PostgreSQL (each transaction on a connection of its
 * own): it joins the outer transaction only when it runs on the same data source and, if its
 * repository is bound to a query runner, on that runner. A call that does not join commits and
 * releases on its own; one that joins shares the outer transaction's fate, and its lock checks.
 */
describe('withLock nested in withLock (PostgreSQL)', () => {
  const env = useEnv({ line: '1.x', db: 'postgres', store: 'memory' })
  const twoProducts = async () => {
    const skus = [unique(), unique()] as const
    for (const sku of skus) await env.repos.products.insert({ sku, stock: 5 })
    return skus
  }
  const stockOf = async (sku: string) => (await env.repos.products.findOneByOrFail({ sku })).stock
  const outerFailure = new Error('the outer fn fails after the nested call returned')

  it('on another data source sharing the lock manager: its own transaction, committed and released when it returns', async () => {
    const [x, y] = await twoProducts()
    const other = env.dataSourceFor(Object.values(env.entities))
    installModelLocks(other, { locks: env.locks })
    await other.initialize()
    const products = other.getRepository(env.entities.Product).extend(lockableRepository)
    const stranger = await env.process() // another lock manager on the same store
    try {
      const error = await rejection(
        env.repos.products.withLock(x, async (_, manager) => {
          await manager.update(env.entities.Product, { sku: x }, { stock: 0 })
          await products.withLock(y, (__, nested) => nested.update(env.entities.Product, { sku: y }, { stock: 1 }))
          expect(await stranger.repos.products.isLocked(y)).toBe(false)
          throw outerFailure
        }),
      )
      expect(error).toBe(outerFailure)
      expect([await stockOf(x), await stockOf(y)]).toEqual([5, 1])
    } finally {
      await other.destroy()
    }
  })

  it('on a repository bound to a query runner of its own: its own transaction there, committed and released when it returns', async () => {
    const [x, y] = await twoProducts()
    const runner = env.dataSource.createQueryRunner()
    const products = runner.manager.withRepository(env.repos.products)
    const stranger = await env.process()
    try {
      const error = await rejection(
        env.repos.products.withLock(x, async (_, manager) => {
          await manager.update(env.entities.Product, { sku: x }, { stock: 0 })
          await products.withLock(y, async (__, nested) => {
            expect(nested.queryRunner).toBe(runner)
            await nested.update(env.entities.Product, { sku: y }, { stock: 1 })
          })
          expect(await stranger.repos.products.isLocked(y)).toBe(false)
          throw outerFailure
        }),
      )
      expect(error).toBe(outerFailure)
      expect([await stockOf(x), await stockOf(y)]).toEqual([5, 1])
    } finally {
      await runner.release()
    }
  })

  it('when it joins: a lock of the outer call lost after the nested call returned still rolls everything back', async () => {
    const [x, y] = await twoProducts()
    const thief = createLockManager({ store: env.store, prefix: env.locks.prefix })
    const error = await rejection(
      env.repos.products.withLock(
        x,
        async (_, manager, lock) => {
          await env.repos.products.withLock(y, (__, nested) => nested.update(env.entities.Product, { sku: y }, { stock: 1 }))
          await manager.update(env.entities.Product, { sku: x }, { stock: 0 })
          const stolen = await thief.acquire(recordLockName('product', { sku: x }), { steal: true })
          // This holder hears of the steal at its next renewal (ttl / 3).
          for (let i = 0; i < 500 && !lock.signal.aborted; i++) await sleep(20)
          await stolen.release()
        },
        { ttl: 300 },
      ),
    )
    expect(error).toBeInstanceOf(LockLostError)
    expect([await stockOf(x), await stockOf(y)]).toEqual([5, 5])
  })
})
