import { afterAll, describe, expect, test } from 'vitest'
import { createLockManager } from '../../../src/lock-manager.js'
import type { AcquireRequest } from '../../../src/store.js'
import { MODES, closeAll, connect, sleep, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

/**
 * A lock manager takes a lock its store reports handed over on release (`Handover`) without asking
 * the store again: the waiter's critical section starts on the wake-up, and its first renewal
 * turns the short claim into its ttl. Holder and waiter are separate managers on separate clients,
 * like two app servers.
 */
describe.each(MODES)('a manager waiting on %s', (mode) => {
  test('is granted the handed-over lock without an attempt, and renews it to its ttl at once', async () => {
    const prefix = `handover-${uniqueKey('m')}:`
    const holder = createLockManager({ store: storeFor(mode, { handOver: true }), prefix })
    const waiterStore = storeFor(mode)
    const attempts: AcquireRequest[] = []
    const acquire = waiterStore.acquire.bind(waiterStore)
    waiterStore.acquire = (request) => (attempts.push(request), acquire(request))
    const waiter = createLockManager({ store: waiterStore, prefix, sleep: 10_000, ttl: 20_000 })
    const raw = connect(mode)
    const key = waiter.keyFor('job')

    const held = await holder.acquire('job')
    const waiting = waiter.acquire('job')
    // Its second attempt (sent when the wake-up subscription is active) parks it in the queue.
    await until(() => attempts.some((a) => a.waiting), 5000)
    let parked = 0
    for (let i = 0; i < 100 && parked === 0; i++) {
      parked = (await raw.eval("return redis.call('HLEN', KEYS[1])", 1, `{${key}}:p`)) as number
      if (parked === 0) await sleep(20)
    }
    expect(parked).toBe(1)
    const before = attempts.length

    await held.release()
    const handle = await waiting
    expect(attempts.length).toBe(before)
    expect(handle.fencingToken).toBeGreaterThan(held.fencingToken)
    // Renewed from the claim (500 ms at most) to its ttl.
    let remaining = 0
    for (let i = 0; i < 100 && remaining < 1000; i++) {
      remaining = (await waiter.store.holders(key))[0]?.expiresInMs ?? 0
      if (remaining < 1000) await sleep(20)
    }
    expect(remaining).toBeGreaterThan(1000)
    await handle.release()
    await Promise.all([holder.close(), waiter.close()])
  })
})
