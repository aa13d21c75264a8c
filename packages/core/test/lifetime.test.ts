import diagnostics from 'node:diagnostics_channel'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LockLostError, MemoryStore, channelNames, createLockManager } from '@cachelock/core'
import { FlakyStore, sleep } from './helpers.js'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
  expect(unhandled).toEqual([])
})

describe('ttl, auto-extension and lost locks', () => {
  it('keeps a lock far past its ttl while auto-extending', async () => {
    const store = new MemoryStore()
    // Four ttls: long enough to need three renewals, with a ttl an event-loop stall of a loaded
    // 2-core machine (the whole suite runs files in parallel) does not outlast.
    const locks = createLockManager({ store, ttl: 300 })
    const other = createLockManager({ store })
    const result = await locks.withLock('long', async (lock) => {
      await sleep(1200)
      expect(lock.signal.aborted).toBe(false)
      expect(await other.tryAcquire('long')).toBeNull()
      return 'done'
    })
    expect(result).toBe('done')
  })

  it('without autoExtend, the lock expires after ttl and its signal says so', async () => {
    const store = new MemoryStore()
    const locks = createLockManager({ store, ttl: 50, autoExtend: false })
    const other = createLockManager({ store })
    await locks.request('short', async (lock) => {
      await sleep(120)
      expect(lock.signal.aborted).toBe(true)
      expect(lock.signal.reason).toBeInstanceOf(LockLostError)
      expect((lock.signal.reason as LockLostError).reason).toBe('expired')
      expect(await other.isLocked('short')).toBe(false)
    })
  })

  it('a renewal that finds the lock gone aborts the signal (no unhandled rejection)', async () => {
    const store = new MemoryStore()
    const locks = createLockManager({ store, ttl: 60 })
    const handle = await locks.acquire('gone')
    await store.forceRelease(locks.keyFor('gone'))
    await sleep(80)
    expect(handle.signal.reason).toBeInstanceOf(LockLostError)
    expect((handle.signal.reason as LockLostError).reason).toBe('expired')
  })

  it('while the store fails, keeps trying, and declares the lock lost once a full ttl passed', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, ttl: 90 })
    // The store last confirmed the lock no earlier than this, so it cannot be lost before a ttl
    // from here (a load-proof lower bound: a busy machine only makes the loss later).
    const askedAt = performance.now()
    const handle = await locks.acquire('flaky')
    store.failing.add('extend')
    const lostAt = await new Promise<number>((resolve) => handle.signal.addEventListener('abort', () => resolve(performance.now())))
    // Not at the first failed renewal (ttl / 3). A timer may fire a few ms early by this clock:
    // libuv counts it from the loop's cached time.
    expect(lostAt - askedAt).toBeGreaterThanOrEqual(90 - 5)
    const reason = handle.signal.reason as LockLostError
    expect(reason.reason).toBe('store-unreachable')
    expect((reason.cause as Error).message).toContain('connection lost')
    expect(store.calls.filter((c) => c === 'extend').length).toBeGreaterThanOrEqual(2)
  })

  it('declares the lock lost at the deadline even when renewal hangs', async () => {
    const store = new FlakyStore()
    // A ttl long enough that a loaded machine's stall cannot outlast it before the renewal is
    // sent (that would be 'expired'); the loss is awaited, not slept for.
    const locks = createLockManager({ store, ttl: 600 })
    const handle = await locks.acquire('hang')
    store.hanging.add('extend')
    await vi.waitUntil(() => handle.signal.aborted, { timeout: 5000, interval: 5 })
    expect((handle.signal.reason as LockLostError).reason).toBe('store-unreachable')
  })

  it('a release the store fails after the callback: the request resolves with its result, renewal stops (the ttl frees it)', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, ttl: 60 })
    store.failing.add('release')
    // The work is done: a rejection would make a caller that retries on store errors do it twice.
    expect(await locks.request('r', () => 'work done')).toBe('work done')
    expect(await locks.withLock('r2', () => 'work done')).toBe('work done')
    expect(store.calls.filter((c) => c === 'release')).toHaveLength(2)
    // A handle's release(), asked for by the caller, still says the store failed.
    const handle = await locks.acquire('r3')
    await expect(handle.release()).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
    const extendsBefore = store.calls.filter((c) => c === 'extend').length
    await sleep(100)
    expect(store.calls.filter((c) => c === 'extend').length).toBe(extendsBefore)
    expect(await locks.isLocked('r')).toBe(false)
  })

  it('publishes acquired, extended, released and lost events', async () => {
    const events: [string, Record<string, unknown>][] = []
    const subscriptions = Object.values(channelNames).map((name) => {
      const listener = (message: unknown) => events.push([name, message as Record<string, unknown>])
      diagnostics.subscribe(name, listener)
      return () => diagnostics.unsubscribe(name, listener)
    })
    try {
      // Held until renewed once, and the loss awaited rather than slept for: a loaded machine that
      // stalls past a short ttl would report the hold as lost instead of extended.
      const locks = createLockManager({ ttl: 300 })
      await locks.withLock('events', async () => {
        await sleep(20)
        await vi.waitUntil(() => events.some(([name]) => name === 'cachelock:extended'), { timeout: 5000, interval: 5 })
      })
      const handle = await locks.acquire('events-lost')
      await locks.store.forceRelease(locks.keyFor('events-lost'))
      await vi.waitUntil(() => handle.signal.aborted, { timeout: 5000, interval: 5 })
    } finally {
      for (const unsubscribe of subscriptions) unsubscribe()
    }
    const names = events.map(([name]) => name)
    expect(names).toContain('cachelock:acquired')
    expect(names).toContain('cachelock:extended')
    expect(names).toContain('cachelock:released')
    expect(names).toContain('cachelock:lost')
    const acquired = events.find(([name]) => name === 'cachelock:acquired')![1]
    expect(acquired).toMatchObject({ name: 'events', key: 'lock:events', mode: 'exclusive', stolen: false })
    expect(typeof acquired.waitMs).toBe('number')
    const released = events.find(([name]) => name === 'cachelock:released')![1]
    expect(released.heldMs).toBeGreaterThanOrEqual(15)
  })
})

describe('an event-loop stall past the ttl', () => {
  it('is reported as expired (not as the store failing), and the new holder keeps its lock', async () => {
    const store = new FlakyStore()
    const staller = createLockManager({ store, ttl: 50 })
    const other = createLockManager({ store, sleep: 5 })
    const handle = await staller.acquire('stall')
    store.latencyMs = 5 // the overdue renewal is still on its way when the overdue deadline fires
    const taken = other.acquire('stall')
    const until = performance.now() + 150
    while (performance.now() < until); // block the event loop: no renewal can run
    const thief = await taken
    await sleep(20)
    expect((handle.signal.reason as LockLostError).reason).toBe('expired')
    await expect(handle.release()).rejects.toThrow('not held')
    expect(thief.held).toBe(true)
    expect(await other.isLocked('stall')).toBe(true)
    await thief.release()
  })
})
