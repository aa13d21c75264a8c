import { describe, expect, it } from 'vitest'
import { LockNotAcquiredError } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { LockedRowError } from '@cachelock/typeorm'
import type { Env } from '../support/env.js'
import { rejection, unique } from '../support/helpers.js'

/** Lock names: `model:field:value` under the manager's prefix, the same as core and the Prisma adapter. */
export function namesSuite(env: Env) {
  describe('lock names', () => {
    it('are what recordLockName (and so the Prisma adapter) makes, under the manager prefix', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 1 })
      await env.repos.products.withLock({ sku }, async () => {
        const name = recordLockName('product', { sku })
        expect(name).toBe(`product:sku:${sku}`)
        expect(await env.locks.isLocked(name)).toBe(true)
        expect(await env.store.holders(env.locks.keyFor(name))).toHaveLength(1)
        // A plain core lock on the same name is excluded.
        expect(await env.locks.tryAcquire(name)).toBeNull()
      })
    })

    it('are excluded by a core lock on the same name: withLock waits and the guard rejects writes', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const core = await env.manager().acquire(recordLockName('product', { sku }))
      try {
        expect(await env.repos.products.isLocked(sku)).toBe(true)
        expect(await rejection(env.repos.products.withLock(sku, () => undefined, { timeout: 30 }))).toBeInstanceOf(LockNotAcquiredError)
        const product = await env.repos.products.findOneByOrFail({ sku })
        product.stock = 0
        expect(await rejection(env.repos.products.save(product))).toBeInstanceOf(LockedRowError)
      } finally {
        await core.release()
      }
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(5)
    })

    it('cover primary keys, compound uniques and a model name override', async () => {
      const id = Math.floor(Math.random() * 1e9)
      await env.repos.orders.insert({ id, status: 'new' })
      expect(await env.repos.orders.withLock(id, (_, __, lock) => lock.name)).toBe(`order:id:${id}`)

      const sku = unique()
      await env.repos.items.insert({ tenant: 't1', sku, stock: 1 })
      const name = await env.repos.items.withLock({ tenant: 't1', sku }, (_, __, lock) => lock.name)
      expect(name).toBe(recordLockName('StockItem', { tenant: 't1', sku }))
      expect(name).toBe(`stockItem:sku+tenant:${JSON.stringify([sku, 't1'])}`)

      await env.repos.counters.insert({ id, value: 0 })
      expect(await env.repos.counters.withLock(id, (_, __, lock) => lock.name)).toBe(`counter:id:${id}`)
    })
  })
}
