import { describe, expect, it } from 'vitest'
import { LockLostError, createLockManager } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import type { Env } from '../support/env.js'
import { unique } from '../support/helpers.js'

/**
 * Issue 13 §3: a lock lost while `fn` is stuck must end its transaction at once, not when `fn`
 * finishes: until then the open transaction blocks every writer of its rows (on SQLite, every
 * writer of the database).
 */
export function lostRollbackSuite(env: Env) {
  describe('a lock lost while fn is stuck', () => {
    it('rolls the transaction back at once: another writer gets through while fn is still stuck; fn’s later queries are refused', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 10 })
      const events: string[] = []
      let resume!: () => void
      const stuck = new Promise<void>((resolve) => (resume = resolve))
      let wrote!: () => void
      const written = new Promise<void>((resolve) => (wrote = resolve))
      let late: unknown
      const fn = { done: undefined as Promise<void> | undefined }
      const work = env.repos.products.withLock(
        sku,
        (product, manager) =>
          (fn.done = (async () => {
            await manager.save(Object.assign(product, { stock: 0 })) // the transaction now blocks writers of the row
            wrote()
            await stuck // a call that hangs: a payment API, a stalled dependency
            events.push('fn resumed')
            late = await manager.save(Object.assign(product, { stock: 1 })).then(
              () => 'written',
              (error: unknown) => error,
            )
          })()),
        { ttl: 600 },
      )
      const outcome = work.then(
        () => 'committed',
        (error: unknown) => (events.push('withLock rejected'), error),
      )
      await written
      // Another process steals the lock; this holder hears of it at its next renewal (ttl / 3).
      const thief = await createLockManager({ store: env.store, prefix: env.locks.prefix }).acquire(recordLockName('product', { sku }), {
        steal: true,
      })
      const other = env.otherWriter()
      const second = other
        .run('UPDATE "product" SET "note" = ? WHERE "sku" = ?', ['second', sku])
        .then(() => events.push('second writer committed'))
      // Both, before fn is let go: the second writer's commit can be heard before withLock's
      // rejection, which comes after the rollback and the release (a fresh-clone run on a loaded
      // machine saw fn resume in between). Bounded so that, without the prompt rollback, the test
      // fails on the order below instead of hanging.
      let fallback: NodeJS.Timeout | undefined
      await Promise.race([Promise.all([second, outcome]), new Promise((resolve) => (fallback = setTimeout(resolve, 15_000)))])
      clearTimeout(fallback)
      resume()
      await fn.done
      await second
      // Both happened while fn was still stuck.
      expect(events.slice(0, 2).sort()).toEqual(['second writer committed', 'withLock rejected'])
      expect(events[2]).toBe('fn resumed')
      const error = await outcome
      expect(error).toBeInstanceOf(LockLostError)
      expect(late).toBe(error) // fn's later query on the rolled-back transaction is refused with the loss
      expect(await env.repos.products.findOneByOrFail({ sku })).toMatchObject({ stock: 10, note: 'second' })
      await thief.release()
      await other.close()
    })
  })
}
