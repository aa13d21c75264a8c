import { afterEach, describe, expect, it } from 'vitest'
import { LockError, LockLostError } from '../src/errors.js'
import { MemoryStore } from '../src/stores/memory/memory-store.js'
import { FlakyStore } from './helpers.js'
import { base, Events, grantLease, refTimers, takeOver } from './support/leases.js'

// The lease as the manager's queue drives it, against a memory store: what its holder and an
// observer of the diagnostics channels see when it is released, extended and lost.

let events: Events
afterEach(() => events.stop())

describe('Lease signal', () => {
  it('first read after the loss, is aborted already, with the LockLostError', async () => {
    events = new Events('lost')
    const made = await grantLease(new MemoryStore())
    made.lease.markLost('force-released')
    const { signal } = made.lease
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBeInstanceOf(LockLostError)
    expect(signal.reason).toMatchObject({ reason: 'force-released' })
    expect(made.lease.signal).toBe(signal)
  })
})

describe('Lease release', () => {
  it('removes this owner’s hold, resolves true, leaves the signal alone and reports how long it was held', async () => {
    events = new Events('released', 'lost')
    const store = new MemoryStore()
    const made = await grantLease(store, { grantedAt: performance.now() - 1_000 })
    expect(await made.lease.release()).toBe(true)
    const heldAtMost = performance.now() - made.lease.grantedAt
    expect(await store.holders(made.key)).toEqual([])
    expect(made.lease.signal.aborted).toBe(false)
    expect(made.lease.held).toBe(false)
    expect(made.ended).toEqual([made.lease])
    const [released] = events.on('released', made.lease.name)
    expect(released).toEqual({ ...base(made), heldMs: expect.any(Number) })
    expect(released!.heldMs).toBeGreaterThanOrEqual(1_000)
    expect(released!.heldMs).toBeLessThanOrEqual(heldAtMost)
    expect(events.on('lost', made.lease.name)).toEqual([])
  })

  it('of a hold another client took since: resolves false, leaves their hold, and signals the loss as expired', async () => {
    events = new Events('lost')
    const store = new MemoryStore()
    const made = await grantLease(store)
    await takeOver(store, made.key)
    expect(await made.lease.release()).toBe(false)
    expect((await store.holders(made.key)).map((holder) => holder.owner)).toEqual(['other-client'])
    const reason: unknown = made.lease.signal.reason
    expect(reason).toBeInstanceOf(LockLostError)
    expect((reason as LockLostError).reason).toBe('expired')
    expect(events.on('lost', made.lease.name)).toEqual([{ ...base(made), error: reason }])
  })

  it('forced, of a lock already gone: resolves true and signals nothing (the caller meant to end it either way)', async () => {
    events = new Events('lost')
    const store = new MemoryStore()
    const made = await grantLease(store)
    await store.forceRelease(made.key)
    expect(await made.lease.release(true)).toBe(true)
    expect(made.lease.signal.aborted).toBe(false)
    expect(events.on('lost', made.lease.name)).toEqual([])
  })

  it('twice, or after the loss: one store call, one released event, onEnd once', async () => {
    events = new Events('released')
    const store = new FlakyStore()
    const made = await grantLease(store)
    expect(await made.lease.release()).toBe(true)
    expect(await made.lease.release()).toBe(false)
    expect(store.calls.filter((call) => call === 'release')).toHaveLength(1)
    expect(events.on('released', made.lease.name)).toHaveLength(1)
    expect(made.ended).toHaveLength(1)

    const lost = await grantLease(store)
    lost.lease.markLost('stolen')
    expect(await lost.lease.release()).toBe(false)
    expect(store.calls.filter((call) => call === 'release')).toHaveLength(1)
    expect(lost.ended).toHaveLength(1)
  })

  it('a store failure rejects with LockError naming the release and reports released with the error', async () => {
    events = new Events('released', 'storeError')
    const store = new FlakyStore()
    const made = await grantLease(store, { grantedAt: performance.now() - 1_000 })
    store.failing.add('release')
    const error: unknown = await made.lease.release().catch((caught: unknown) => caught)
    const heldAtMost = performance.now() - made.lease.grantedAt
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect((error as LockError).message).toMatch(/failed to release lock "lease \d+": connection lost during release/)
    const cause = (error as LockError).cause
    const [released] = events.on('released', made.lease.name)
    expect(released).toEqual({ ...base(made), heldMs: expect.any(Number), error: cause })
    expect(released!.heldMs).toBeGreaterThanOrEqual(1_000)
    expect(released!.heldMs).toBeLessThanOrEqual(heldAtMost)
    expect(events.on('storeError', made.lease.name)).toEqual([{ name: made.lease.name, operation: 'release', error: cause }])
    expect(made.ended).toEqual([made.lease])
  })

  it('a store call out for a caller keeps the process alive; a finalizer’s does not', async () => {
    const store = new FlakyStore()
    const awaited = await grantLease(store)
    const finalized = await grantLease(store)
    store.paused.add('release')
    const before = refTimers()
    const releasing = awaited.lease.release()
    expect(refTimers()).toBe(before + 1)
    store.resume()
    expect(await releasing).toBe(true)

    store.paused.add('release')
    const quiet = refTimers()
    finalized.lease.finalize()
    expect(refTimers()).toBe(quiet)
    store.resume()
  })
})

describe('Lease loss', () => {
  it('aborts the signal with the reason and cause, tells the onLost listener once, and a late listener at once', async () => {
    events = new Events('lost')
    const made = await grantLease(new MemoryStore())
    const heard: LockLostError[] = []
    made.lease.onLost((error) => heard.push(error))
    const cause = new Error('taken')
    made.lease.markLost('stolen', cause)
    made.lease.markLost('expired')
    const reason = made.lease.signal.reason as LockLostError
    expect(reason.reason).toBe('stolen')
    expect(reason.cause).toBe(cause)
    expect(heard).toEqual([reason])
    expect(events.on('lost', made.lease.name)).toEqual([{ ...base(made), error: reason }])
    expect(made.ended).toHaveLength(1)
    const late: LockLostError[] = []
    made.lease.onLost((error) => late.push(error))
    expect(late).toEqual([reason])
  })

  it('after a release leaves the released lock’s signal alone', async () => {
    events = new Events('lost')
    const made = await grantLease(new MemoryStore())
    await made.lease.release()
    made.lease.markLost('stolen')
    expect(made.lease.signal.aborted).toBe(false)
    expect(events.on('lost', made.lease.name)).toEqual([])
    expect(made.ended).toHaveLength(1)
  })
})

describe('Lease extend', () => {
  it('makes the hold live ttl from now, renews with that ttl and reports extended', async () => {
    events = new Events('extended')
    const store = new MemoryStore()
    const made = await grantLease(store, { ttl: 5_000 })
    expect(await made.lease.extend(60_000)).toBe(true)
    expect(made.lease.ttl).toBe(60_000)
    const [holder] = await store.holders(made.key)
    expect(holder!.expiresInMs).toBeGreaterThan(5_000)
    expect(events.on('extended', made.lease.name)).toEqual([{ ...base(made), ttlMs: 60_000, automatic: false }])
  })

  it('after the release: false, no store call, nothing reported', async () => {
    events = new Events('extended')
    const store = new FlakyStore()
    const made = await grantLease(store)
    await made.lease.release()
    expect(await made.lease.extend(60_000)).toBe(false)
    expect(store.calls).not.toContain('extend')
  })

  it('answered after the release: false, and nothing reported', async () => {
    events = new Events('extended')
    const store = new FlakyStore()
    const made = await grantLease(store)
    store.paused.add('extend')
    const extending = made.lease.extend(30_000)
    // Released while the extend is out (its answer, true, comes after).
    made.lease.markLost('stolen')
    store.resume()
    expect(await extending).toBe(false)
    expect(events.on('extended', made.lease.name)).toEqual([])
    expect(made.lease.ttl).toBe(60_000)
  })

  it('of a hold another client took: false, and the loss signalled as expired', async () => {
    const store = new MemoryStore()
    const made = await grantLease(store)
    await takeOver(store, made.key)
    expect(await made.lease.extend(60_000)).toBe(false)
    expect((made.lease.signal.reason as LockLostError).reason).toBe('expired')
    expect((await store.holders(made.key)).map((holder) => holder.owner)).toEqual(['other-client'])
  })

  it('a store failure rejects with LockError naming the extend', async () => {
    const store = new FlakyStore()
    const made = await grantLease(store)
    store.failing.add('extend')
    const error = (await made.lease.extend(60_000).catch((caught: unknown) => caught)) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect(error.message).toMatch(/failed to extend lock "lease \d+": connection lost during extend/)
    expect(made.lease.held).toBe(true)
  })

  it('keeps the process alive while a caller awaits it', async () => {
    const store = new FlakyStore()
    const made = await grantLease(store)
    store.paused.add('extend')
    const before = refTimers()
    const extending = made.lease.extend(60_000)
    expect(refTimers()).toBe(before + 1)
    store.resume()
    expect(await extending).toBe(true)
  })
})
