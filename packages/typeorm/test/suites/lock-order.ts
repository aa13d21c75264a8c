import { describe, expect, it } from 'vitest'
import { LockNotAcquiredError, LockOrderError, channelNames } from '@cachelock/core'
import type { Env, Process } from '../support/env.js'
import { recordEvents, rejection, sleep, unique } from '../support/helpers.js'

/** Issue 10, part 4: taking row locks out of order inside one another. */
export function lockOrderSuite(env: Env) {
  const twoProducts = async () => {
    const skus = [unique(), unique()].sort()
    for (const sku of skus) await env.repos.products.insert({ sku, stock: 1 })
    return skus as [string, string]
  }

  describe('lock order', () => {
    it('publishes an event for an out-of-order nested lock, and throws LockOrderError with strictLockOrder', async () => {
      const [a, b] = await twoProducts()
      const { events } = await recordEvents(channelNames.lockOrder, () =>
        env.repos.products.withLock(b, () => env.repos.products.withLock(a, () => 'ok')),
      )
      expect(events).toEqual([{ name: `product:sku:${a}`, heldName: `product:sku:${b}`, thrown: false }])

      const error = await rejection(
        env.repos.products.withLock(b, () => env.repos.products.withLock(a, () => 'ok', { strictLockOrder: true })),
      )
      expect(error).toBeInstanceOf(LockOrderError)
      expect(await env.repos.products.isLocked(a)).toBe(false)
      const viaLock = await rejection(env.repos.products.withLock(b, () => env.repos.products.lock(a, { strictLockOrder: true })))
      expect(viaLock).toBeInstanceOf(LockOrderError)
    })

    it('is never tripped by a multi-row withLock, nor by nesting in sorted order', async () => {
      const [a, b] = await twoProducts()
      const { events } = await recordEvents(channelNames.lockOrder, async () => {
        await env.repos.products.withLock([b, a], () => 'ok', { strictLockOrder: true })
        await env.repos.products.withLock(a, () => env.repos.products.withLock(b, () => 'ok', { strictLockOrder: true }))
      })
      expect(events).toEqual([])
    })

    it('turns a deadlock between two flows into an immediate error (from the install option)', async () => {
      const [a, b] = await twoProducts()
      const nested = (process: Process, outer: string, inner: string, timeout: number) =>
        process.repos.products.withLock(
          outer,
          async () => {
            await sleep(30) // both flows hold their first row
            return process.repos.products.withLock(inner, () => 'done', { timeout })
          },
          { transaction: false },
        )

      // Without the check: each waits for the other's row until its timeout.
      const plain = await Promise.allSettled([nested(env, a, b, 300), nested(env, b, a, 300)])
      expect(plain.map((outcome) => outcome.status === 'rejected' && outcome.reason instanceof LockNotAcquiredError)).toContain(true)

      const strict = await env.process({ strictLockOrder: true })
      const started = performance.now()
      // A timeout far beyond the bound: a flow that waited for the other's row would take 10 s.
      const checked = await Promise.allSettled([nested(strict, a, b, 10_000), nested(strict, b, a, 10_000)])
      expect(checked[0]).toEqual({ status: 'fulfilled', value: 'done' })
      expect(checked[1]).toMatchObject({ status: 'rejected', reason: expect.any(LockOrderError) })
      expect(performance.now() - started).toBeLessThan(5000)
    })
  })
}
