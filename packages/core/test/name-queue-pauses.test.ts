import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it, vi } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { channelNames } from '../src/events.js'
import { storedNames } from '../src/stores/memory/memory-store.js'
import { FlakyStore, sleep } from './helpers.js'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * How long a name's queue waits between rounds: after a refusal, until the store's wake-up, the
 * holder's remaining ttl or `sleep` (jittered, never more), whichever comes first; after a round
 * with nothing to wait for, not at all.
 */

const acquireCalls = (store: FlakyStore) => store.calls.filter((call) => call === 'acquire').length

describe('the pause after a refusal', () => {
  it('is the holder’s remaining ttl when that is shorter than sleep: a crashed holder’s lock is taken when it expires', async () => {
    const store = new FlakyStore()
    // A holder that never releases nor renews (its process died): only its ttl frees the lock.
    await createLockManager({ store }).acquire('job', { ttl: 300, autoExtend: false })
    const locks = createLockManager({ store, sleep: 60_000 })
    const handle = await locks.acquire('job', { timeout: 10_000 })
    await handle.release()
  })

  it('is at least half of sleep: a waiter does not poll the store faster', async () => {
    const store = new FlakyStore()
    const holder = await createLockManager({ store }).acquire('job')
    const locks = createLockManager({ store, sleep: 100 })
    const waiting = locks.acquire('job', { timeout: 400 })
    await expect(waiting).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED' })
    // 400 ms at one attempt per 50 ms at most (plus the one the wake-up subscription sends), and the holder's own.
    expect(acquireCalls(store)).toBeLessThanOrEqual(1 + 2 + 400 / 50)
    await holder.release()
  })

  it('after a store failure, applies only to requests still waiting: the next caller is asked for at once', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, sleep: 60_000 })
    store.failing.add('acquire')
    await expect(locks.acquire('job')).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
    store.failing.clear()
    const handle = await locks.acquire('job', { timeout: 5000 })
    await handle.release()
  })

  it('is not taken for a request that gave up while refused: the next one is asked for at once', async () => {
    // No wake-ups, so nothing but the pause could delay the next request.
    const store = new ScriptedStore({ wakeUps: false })
    const locks = createLockManager({ store, sleep: 60_000 })
    const controller = new AbortController()
    const first = locks.acquire('job', { signal: controller.signal })
    const second = locks.acquire('job', { timeout: 5000 })
    controller.abort(new Error('gave up'))
    await expect(first).rejects.toThrow('gave up')
    store.hold = () => false
    // Refused when sent; the refusal arrives after its request gave up.
    store.held[0]!.answer({ granted: false, retryInMs: 60_000 })
    await (await second).release()
  })
})

describe('answers for requests that gave up', () => {
  it('a grant that arrives after its request was aborted is given back at once, without any lock event', async () => {
    // Nobody ever held it: no event may report it held or released.
    const events: string[] = []
    const listeners = (['acquired', 'released'] as const).map((channel) => {
      const listener = (message: unknown) => {
        if ((message as { clientId: string }).clientId === locks.clientId) events.push(channel)
      }
      diagnostics.subscribe(channelNames[channel], listener)
      return () => diagnostics.unsubscribe(channelNames[channel], listener)
    })
    const store = new ScriptedStore()
    const locks = createLockManager({ store })
    try {
      const controller = new AbortController()
      const aborted = locks.acquire('job', { signal: controller.signal })
      controller.abort(new Error('gave up'))
      await expect(aborted).rejects.toThrow('gave up')
      store.held[0]!.pass()
      await sleep(10)
      store.hold = () => false
      const other = await createLockManager({ store }).tryAcquire('job')
      expect(other).not.toBeNull()
      await other!.release()
      expect(events).toEqual([])
    } finally {
      listeners.forEach((unsubscribe) => unsubscribe())
    }
  })

  it('the refusal of a single try (timeout 0) that was aborted leaves the requests behind it in place', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store })
    const controller = new AbortController()
    const tried = locks.acquire('job', { timeout: 0, signal: controller.signal })
    const waiting = locks.acquire('job', { timeout: 5000 })
    controller.abort(new Error('gave up'))
    await expect(tried).rejects.toThrow('gave up')
    store.hold = () => false
    store.held[0]!.answer({ granted: false, retryInMs: 1000 })
    await (await waiting).release()
  })
})

describe('the wake-up subscription', () => {
  it('ends once nothing is waiting for the name', async () => {
    const store = new FlakyStore()
    const holder = await createLockManager({ store }).acquire('job')
    const locks = createLockManager({ store, sleep: 60_000 })
    const waiting = locks.acquire('job')
    await vi.waitFor(() => expect(storedNames(store).listened).toBe(1))
    await holder.release()
    await (await waiting).release()
    expect(storedNames(store).listened).toBe(0)
  })
})
