import { describe, expect, it } from 'vitest'
import { LockLostError } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import type { Env } from '../support/env.js'
import { deferred, sleep, unique } from '../support/helpers.js'

/** Issue 10, part 2: a lock lost while fn runs must not let fn's writes commit. */
export function lostLockSuite(env: Env) {
  const ttl = 100

  describe('a lost lock', () => {
    it('rolls the transaction back when it expired during a stall; a lock-then-transaction by hand commits', async () => {
      const sku = unique()
      await env.repos.unguarded.insert({ sku, stock: 10 })
      const error = await env.repos.unguarded
        .withLock(
          sku,
          async (product, manager) => {
            product.stock = 0
            await manager.save(product)
            await sleep(ttl * 2.5) // a stall longer than the ttl: the lock expires
          },
          { ttl, autoExtend: false },
        )
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockLostError)
      expect((await env.repos.unguarded.findOneByOrFail({ sku })).stock).toBe(10)

      // Without the adapter's check: a core lock around a plain transaction commits the same work.
      await env.locks
        .withLock(
          recordLockName('unguarded', { sku }),
          () =>
            env.dataSource.transaction(async (manager) => {
              const product = await manager.findOneByOrFail(env.entities.Unguarded, { sku })
              product.stock = 0
              await manager.save(product)
              await sleep(ttl * 2.5)
            }),
          { ttl, autoExtend: false },
        )
        .catch(() => undefined) // core reports the loss on release, after the commit
      expect((await env.repos.unguarded.findOneByOrFail({ sku })).stock).toBe(0)
    })

    it('rolls the transaction back when another process stole the lock', async () => {
      const sku = unique()
      await env.repos.unguarded.insert({ sku, stock: 10 })
      const written = deferred()
      const proceed = deferred()
      const holder = env.repos.unguarded
        .withLock(sku, async (product, manager) => {
          product.stock = 0
          await manager.save(product)
          written.resolve()
          await proceed.promise
        })
        .catch((e: unknown) => e)
      await written.promise
      const thief = await env.manager().acquire(recordLockName('unguarded', { sku }), { steal: true })
      proceed.resolve()
      const error = await holder
      expect(error).toBeInstanceOf(LockLostError)
      await thief.release()
      expect((await env.repos.unguarded.findOneByOrFail({ sku })).stock).toBe(10)
    })
  })
}
