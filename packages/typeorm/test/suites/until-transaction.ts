import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockLostError, LockNotAcquiredError } from '@cachelock/core'
import type { Env } from '../support/env.js'
import { rejection, sleep, unique } from '../support/helpers.js'

/** Issue 7: `lock(where, { until: 'transaction' })` lives exactly as long as the transaction. */
export function untilTransactionSuite(env: Env) {
  describe("lock(where, { until: 'transaction' })", () => {
    it('holds the row while the transaction runs and releases it on commit', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      await env.dataSource.transaction(async (manager) => {
        const products = manager.withRepository(env.repos.products)
        const handle = await products.lock({ sku }, { until: 'transaction' })
        expect(handle.held).toBe(true)
        const other = await env.process()
        expect(await rejection(other.repos.products.withLock(sku, () => undefined, { timeout: 30 }))).toBeInstanceOf(LockNotAcquiredError)
        const product = await products.findOneByOrFail({ sku })
        product.stock = 4
        await products.save(product) // the transaction's own write passes the guard
      })
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(4)
    })

    it('releases the row on rollback, with the work undone', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const error = await rejection(
        env.dataSource.transaction(async (manager) => {
          const products = manager.withRepository(env.repos.products)
          await products.lock(sku, { until: 'transaction' })
          await products.update({ sku }, { stock: 0 })
          throw new Error('abort')
        }),
      )
      expect(error.message).toBe('abort')
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(5)
    })

    it('confirms the lock before the commit: a lost one rolls the transaction back', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const ttl = 100
      const error = await rejection(
        env.dataSource.transaction(async (manager) => {
          const products = manager.withRepository(env.repos.products)
          await products.lock(sku, { until: 'transaction', ttl, autoExtend: false })
          await products.update({ sku }, { stock: 0 })
          await sleep(ttl * 2.5) // a stall: the lock expires
        }),
      )
      expect(error).toBeInstanceOf(LockLostError)
      expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(5)
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
    })

    it("fences the transaction's writes to a fenced row with the lock's token", async () => {
      const sku = unique()
      await env.repos.fenced.insert({ sku, stock: 5 })
      const token = await env.dataSource.transaction(async (manager) => {
        const fenced = manager.withRepository(env.repos.fenced)
        const handle = await fenced.lock(sku, { until: 'transaction' })
        await fenced.save(Object.assign(await fenced.findOneByOrFail({ sku }), { stock: 4 }))
        return handle.fencingToken
      })
      expect(await env.repos.fenced.findOneByOrFail({ sku })).toMatchObject({ stock: 4, lockFence: expect.anything() })
      expect(Number((await env.repos.fenced.findOneByOrFail({ sku })).lockFence)).toBe(token)
    })

    it('needs a repository bound to an open transaction', async () => {
      const error = await rejection(env.repos.products.lock(unique(), { until: 'transaction' }))
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error.argument).toBe('options.until')
    })
  })
}
