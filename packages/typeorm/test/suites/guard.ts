import { describe, expect, it } from 'vitest'
import { LockError, LockLostError } from '@cachelock/core'
import { LockedRowError } from '@cachelock/typeorm'
import type { Env } from '../support/env.js'
import { deferred, rejection, sleep, unique } from '../support/helpers.js'

/** Issue 7: the subscriber rejects another flow's writes to a locked row and lets the holder's through. */
export function guardSuite(env: Env) {
  /** Hold the row's lock in a flow of its own until `release()`; resolves once it is held. */
  async function holdElsewhere(repo: { withLock(...args: any[]): Promise<unknown> }, where: unknown, options?: object) {
    const held = deferred()
    const done = deferred()
    const holder = repo.withLock(where, () => (held.resolve(), done.promise), options)
    await held.promise
    return { release: async () => (done.resolve(), await holder) }
  }

  describe('the guard', () => {
    it("rejects another flow's save and remove of a locked row with LockedRowError; nothing is written", async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const holder = await holdElsewhere(env.repos.products, { sku })
      // This test body is not inside the holder's async flow: it is "another request".
      const product = await env.repos.products.findOneByOrFail({ sku })
      product.stock = 0
      const saved = await rejection(env.repos.products.save(product))
      expect(saved).toBeInstanceOf(LockedRowError)
      expect(saved).toBeInstanceOf(LockError)
      expect(saved).toMatchObject({ code: 'LOCK_HELD', lockName: `product:sku:${sku}`, entity: 'Product', operation: 'update' })
      expect(await rejection(env.repos.products.remove(product))).toMatchObject({ name: 'LockedRowError', operation: 'remove' })
      expect(await rejection(env.repos.products.softRemove(product))).toMatchObject({ name: 'LockedRowError', operation: 'soft-remove' })
      // Another process (its own data source and manager, the same store) is rejected as well.
      const other = await env.process()
      expect(await rejection(other.repos.products.save({ ...product }))).toBeInstanceOf(LockedRowError)
      await holder.release()

      const row = await env.repos.products.findOneOrFail({ where: { sku }, withDeleted: true })
      expect(row).toMatchObject({ stock: 5, deletedAt: null })
      // Free again: the same save goes through.
      await env.repos.products.save(product)
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(0)
    })

    it("rejects another flow's insert of a key locked before its row exists", async () => {
      const email = `${unique('user')}@example.com`
      const holder = await holdElsewhere(env.repos.accounts, { email }, { missing: 'allow' })
      expect(await rejection(env.repos.accounts.save({ email, name: 'intruder' }))).toMatchObject({
        name: 'LockedRowError',
        operation: 'insert',
      })
      expect(await rejection(env.repos.accounts.insert({ email, name: 'intruder' }))).toBeInstanceOf(LockedRowError)
      await holder.release()
      expect(await env.repos.accounts.countBy({ email })).toBe(0)
    })

    it("lets the holder's own saves, removes and inserts through, nested calls and lock() included", async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      await env.repos.products.withLock(sku, async (product, manager) => {
        product.stock = 4
        await manager.save(product)
        await manager.softRemove(product)
        await manager.recover(product)
      })
      // Through another manager in the same flow (no transaction of its own to wait on here).
      await env.repos.products.withLock(sku, (product) => env.repos.products.save({ ...product, stock: 3 }), { transaction: false })
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(3)
      const handle = await env.repos.products.lock(sku)
      await handle.run(async () => {
        await env.repos.products.delete({ sku }) // by criteria: not guarded anyway
        await env.repos.products.save({ sku, stock: 1 }) // an insert under the handle's lock
      })
      await handle.release()
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(1)
    })

    it("lets a transaction-bound lock's writes through on its transaction only, and a plain handle's nowhere outside run()", async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const handle = await env.repos.products.lock(sku)
      // The flow that called lock() is not the holder by calling it.
      expect(await rejection(env.repos.products.save({ ...(await env.repos.products.findOneByOrFail({ sku })), stock: 4 }))).toBeInstanceOf(
        LockedRowError,
      )
      await handle.release()

      const written = deferred()
      const done = deferred()
      const transaction = env.dataSource.transaction(async (manager) => {
        const products = manager.withRepository(env.repos.products)
        await products.lock(sku, { until: 'transaction' })
        await products.save({ ...(await products.findOneByOrFail({ sku })), stock: 3 }) // through its transaction: passes
        written.resolve()
        await done.promise
      })
      await Promise.race([written.promise, transaction]) // a transaction that failed surfaces here
      // Another process writing the row while that transaction holds the lock is refused.
      const other = await env.process()
      expect(
        await rejection(other.repos.products.save({ ...(await other.repos.products.findOneByOrFail({ sku })), stock: 0 })),
      ).toBeInstanceOf(LockedRowError)
      done.resolve()
      await transaction
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(3)
    })

    it("rejects the holder's own write once its lock is lost, with the LockLostError", async () => {
      // In a transaction the loss rolls it back and its runner refuses fn's queries; without one the
      // guard refuses the write, seeing this flow's lock lost.
      for (const transaction of [true, false]) {
        const sku = unique()
        await env.repos.products.insert({ sku, stock: 5 })
        let saveError: unknown
        let fnEnded!: () => void
        const ended = new Promise<void>((resolve) => (fnEnded = resolve))
        const error = await rejection(
          env.repos.products.withLock(
            sku,
            async (product, manager) => {
              await sleep(150) // past the ttl: the lock expires
              saveError = await manager.save(Object.assign(product, { stock: 0 })).then(
                () => undefined,
                (e: unknown) => e,
              )
              fnEnded()
            },
            { ttl: 50, autoExtend: false, transaction },
          ),
        )
        await ended
        expect(error, `transaction: ${transaction}`).toBeInstanceOf(LockLostError)
        expect(saveError, `transaction: ${transaction}`).toBe(error)
        expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(5)
      }
    })

    it('does not guard an entity with guard: false (the same write goes through)', async () => {
      const sku = unique()
      await env.repos.unguarded.insert({ sku, stock: 5 })
      const holder = await holdElsewhere(env.repos.unguarded, { sku })
      const row = await env.repos.unguarded.findOneByOrFail({ sku })
      row.stock = 0
      await env.repos.unguarded.save(row)
      await holder.release()
      expect((await env.repos.unguarded.findOneByOrFail({ sku })).stock).toBe(0)
    })

    it('does not see writes by criteria (documented): update() goes through', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const holder = await holdElsewhere(env.repos.products, { sku })
      await env.repos.products.update({ sku }, { stock: 0 })
      await holder.release()
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(0)
    })
  })
}
