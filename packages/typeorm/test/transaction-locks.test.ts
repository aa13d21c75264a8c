import { describe, expect, it } from 'vitest'
import { LockLostError, LockOrderError, type LockHandle } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { LockedRowError } from '@cachelock/typeorm'
import type { EntityManager } from 'typeorm'
import { useEnv } from './support/env.js'
import { rejection, unique } from './support/helpers.js'

/**
 * `lock(where, { until: 'transaction' })` locks belong to the transaction they were taken in: its
 * own writes pass the guard for exactly those rows, they count for lock order while held, and they
 * live until the outermost transaction ends (a savepoint's commit or rollback is not the end).
 */
describe("{ until: 'transaction' } locks (TypeORM 1.x on SQLite, memory store)", () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })

  const products = (skus: string[]) => env.repos.products.insert(skus.map((sku) => ({ sku, stock: 5 })))
  const lockIn = (manager: EntityManager, sku: string, options: object = {}) =>
    manager.withRepository(env.repos.products).lock(sku, { until: 'transaction', ...options })
  const holdElsewhere = (sku: string) => env.manager().acquire(recordLockName('product', { sku }))
  const stockOf = async (sku: string) => (await env.repos.products.findOneByOrFail({ sku })).stock

  describe('the guard', () => {
    it("lets through the transaction's writes to its own row only, not to another row held elsewhere", async () => {
      const [mine, theirs] = [unique(), unique()]
      await products([mine, theirs])
      const other = await holdElsewhere(theirs)
      try {
        const refused = await rejection(
          env.dataSource.transaction(async (manager) => {
            await lockIn(manager, mine)
            await manager.save(Object.assign(await manager.findOneByOrFail(env.entities.Product, { sku: mine }), { stock: 4 }))
            await manager.save(Object.assign(await manager.findOneByOrFail(env.entities.Product, { sku: theirs }), { stock: 0 }))
          }),
        )
        expect(refused).toBeInstanceOf(LockedRowError)
        expect(refused.lockName).toBe(`product:sku:${theirs}`)
      } finally {
        await other.release()
      }
      expect([await stockOf(mine), await stockOf(theirs)]).toEqual([5, 5])
    })

    it('stops counting a lock the transaction released early, once another holder took it', async () => {
      const sku = unique()
      await products([sku])
      let other: LockHandle | undefined
      const refused = await rejection(
        env.dataSource.transaction(async (manager) => {
          await (await lockIn(manager, sku)).release()
          other = await holdElsewhere(sku)
          await manager.save(Object.assign(await manager.findOneByOrFail(env.entities.Product, { sku }), { stock: 0 }))
        }),
      )
      await other?.release()
      expect(refused).toBeInstanceOf(LockedRowError)
      expect(await stockOf(sku)).toBe(5)
    })

    it('can take the row again after releasing it early, in the same transaction', async () => {
      const sku = unique()
      await products([sku])
      let again: boolean | undefined
      const committed = await rejection(
        env.dataSource.transaction(async (manager) => {
          await (await lockIn(manager, sku)).release()
          again = (await lockIn(manager, sku)).held
        }),
      )
      expect(again).toBe(true)
      // The commit still confirms every lock the transaction took, the released one too.
      expect(committed).toBeInstanceOf(LockLostError)
      expect(await env.repos.products.isLocked(sku)).toBe(false)
    })
  })

  describe('lock order', () => {
    it('counts the locks the transaction holds: an earlier row after a later one is refused with strictLockOrder', async () => {
      const [a, b] = [unique(), unique()].sort() as [string, string]
      await products([a, b])
      const error = await rejection(
        env.dataSource.transaction(async (manager) => {
          await lockIn(manager, b)
          await lockIn(manager, a, { strictLockOrder: true })
        }),
      )
      expect(error).toBeInstanceOf(LockOrderError)
      expect(error.message).toContain(`product:sku:${b}`)
      expect(await env.repos.products.isLocked(a)).toBe(false)
      expect(await env.repos.products.isLocked(b)).toBe(false)
    })

    it('does not count a lock the transaction released', async () => {
      const [a, b] = [unique(), unique()].sort() as [string, string]
      await products([a, b])
      let taken: boolean | undefined
      await rejection(
        env.dataSource.transaction(async (manager) => {
          await (await lockIn(manager, b)).release()
          taken = (await lockIn(manager, a, { strictLockOrder: true })).held
        }),
      )
      expect(taken).toBe(true)
    })
  })

  describe('the end of the transaction', () => {
    it('releases every lock the transaction took, not only the last', async () => {
      const skus = [unique(), unique(), unique()]
      await products(skus)
      await env.dataSource.transaction(async (manager) => {
        for (const sku of skus) await lockIn(manager, sku)
      })
      for (const sku of skus) expect(await env.repos.products.isLocked(sku), sku).toBe(false)
    })

    it('is the outermost commit or rollback: a savepoint committed or rolled back keeps the locks', async () => {
      const sku = unique()
      await products([sku])
      await env.dataSource.transaction(async (manager) => {
        const handle = await lockIn(manager, sku)
        await manager.transaction((inner) => inner.update(env.entities.Product, { sku }, { note: 'savepoint' }))
        expect(handle.held).toBe(true)
        expect(await env.repos.products.isLocked(sku)).toBe(true)
        const rolledBack = await rejection(
          manager.transaction(async () => {
            throw new Error('undo the savepoint')
          }),
        )
        expect(rolledBack.message).toBe('undo the savepoint')
        expect(handle.held).toBe(true)
        expect(await env.repos.products.isLocked(sku)).toBe(true)
      })
      expect(await env.repos.products.isLocked(sku)).toBe(false)
      expect((await env.repos.products.findOneByOrFail({ sku })).note).toBe('savepoint')
    })

    it('confirms the locks at the outermost commit, not at a savepoint: a lost lock rolls back the savepoint work too', async () => {
      const sku = unique()
      await products([sku])
      let savepoint: unknown = 'not reached'
      const error = await rejection(
        env.dataSource.transaction(async (manager) => {
          const handle = await lockIn(manager, sku, { ttl: 100, autoExtend: false })
          await new Promise((resolve) => handle.signal.addEventListener('abort', resolve, { once: true }))
          savepoint = await manager
            .transaction((inner) => inner.update(env.entities.Product, { sku }, { note: 'savepoint' }))
            .then(
              () => 'committed',
              (e: unknown) => e,
            )
        }),
      )
      expect(savepoint).toBe('committed')
      expect(error).toBeInstanceOf(LockLostError)
      expect((await env.repos.products.findOneByOrFail({ sku })).note).toBe('')
    })
  })
})
