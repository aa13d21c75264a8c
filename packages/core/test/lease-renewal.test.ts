import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { LockError, type LockLostError } from '../src/errors.js'
import type { Lease } from '../src/lease.js'
import { RenewalBatch } from '../src/renewal-batch.js'
import { StoreDeadline } from '../src/store-deadline.js'
import type { Renewal } from '../src/store.js'
import { MemoryStore } from '../src/stores/memory/memory-store.js'
import { FlakyStore, sleep } from './helpers.js'
import { base, Events, grantLease, refTimers, takeOver, until, type Made } from './support/leases.js'

// A lease's automatic renewal, on its own timer and through the manager's RenewalBatch: when it
// goes out, what a failure does, and that it stops once the lock is no longer held here.

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** A memory store that notes when each extend was sent and can hold its answers back. */
class TimedStore extends MemoryStore {
  readonly sent: number[] = []
  /** While set, extends wait here to be answered by the test. */
  holdBack = false
  /** `pass` answers with what the memory store says now (extending the lock); `answer` as given. */
  readonly held: { answer: (kept: boolean) => void; pass: () => void; fail: (error: Error) => void }[] = []

  override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.sent.push(performance.now())
    if (!this.holdBack) return super.extend(key, owner, ttlMs)
    return new Promise((answer, fail) => this.held.push({ answer, pass: () => answer(super.extend(key, owner, ttlMs)), fail }))
  }
}

/** A memory store that notes the keys of each renewal call: `[key]` for an extend, every key for an extendMany. */
class RenewalCalls extends MemoryStore {
  readonly calls: string[][] = []

  override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.calls.push([key])
    return super.extend(key, owner, ttlMs)
  }

  extendMany(renewals: readonly Renewal[]): Promise<boolean[]> {
    this.calls.push(renewals.map((renewal) => renewal.key))
    return Promise.all(renewals.map((renewal) => super.extend(renewal.key, renewal.owner, renewal.ttlMs)))
  }
}

let events: Events
const leases: Lease[] = []
afterEach(async () => {
  events.stop()
  await Promise.all(leases.splice(0).map((lease) => lease.release().catch(() => false)))
})

async function renewing(store: MemoryStore, ttl: number, batch: boolean, init = {}): Promise<Made> {
  const made = await grantLease(store, { ttl, autoExtend: true, ...init }, batch)
  leases.push(made.lease)
  return made
}

describe.each([
  ['on its own timer', false],
  ['through the manager’s renewal batch', true],
])('Lease renewal %s', (_, batch) => {
  it('goes out a third of the ttl after the grant and reports extended as automatic', async () => {
    events = new Events('extended')
    const store = new TimedStore()
    const granted = performance.now()
    const made = await renewing(store, 1_500, batch)
    await until(() => events.on('extended', made.lease.name).length > 0)
    // Timers never fire early (give or take the millisecond they are rounded to).
    expect(store.sent[0]! - granted).toBeGreaterThanOrEqual(500 - 2)
    expect(events.on('extended', made.lease.name)[0]).toEqual({ ...base(made), ttlMs: 1_500, automatic: true })
  })

  it('failing, is retried no more often than every third of the ttl, then the loss is signalled with the store’s error', async () => {
    events = new Events('storeError')
    const store = new FlakyStore()
    const made = await renewing(store, 900, batch)
    store.failing.add('extend')
    await until(() => made.lease.signal.aborted)
    const lost = made.lease.signal.reason as LockLostError
    expect(lost.reason).toBe('store-unreachable')
    expect(lost.cause).not.toBeInstanceOf(LockError)
    expect((lost.cause as Error).message).toBe('connection lost during extend')
    const attempts = store.calls.filter((call) => call === 'extend').length
    expect(attempts).toBeGreaterThanOrEqual(1)
    expect(attempts).toBeLessThanOrEqual(4)
    // One report per failed renewal, with the store's own error (not wrapped as an `extend` failure).
    const reports = events.on('storeError', made.lease.name)
    expect(reports).toHaveLength(attempts)
    for (const report of reports) expect(report).toEqual({ name: made.lease.name, operation: 'renew', error: expect.any(Error) })
    expect(reports.every((report) => !(report.error instanceof LockError))).toBe(true)
  })

  it('that failed once and then succeeded keeps the lock past the deadline the failed one armed', async () => {
    events = new Events('extended')
    const store = new FlakyStore()
    store.failing.add('extend')
    const made = await renewing(store, 1_500, batch)
    await until(() => store.calls.includes('extend'))
    store.failing.delete('extend')
    // The retry (a third of the ttl later) and two more renewals succeed: past the first deadline.
    await until(() => events.on('extended', made.lease.name).length >= 3)
    expect(made.lease.signal.aborted).toBe(false)
    expect(made.lease.held).toBe(true)
  })

  it('answered after the release reports nothing, and no renewal follows', async () => {
    events = new Events('extended', 'storeError')
    const store = new TimedStore()
    store.holdBack = true
    const failed = await renewing(store, 600, batch)
    await until(() => store.held.length === 1)
    await failed.lease.release()
    store.held[0]!.fail(new Error('connection lost'))
    const kept = await renewing(store, 600, batch)
    await until(() => store.held.length === 2)
    await kept.lease.release()
    store.held[1]!.answer(true)
    // Two more renewal periods: neither lease renews again.
    await sleep(450)
    expect(store.held).toHaveLength(2)
    expect(events.on('storeError', failed.lease.name)).toEqual([])
    expect(events.on('extended', kept.lease.name)).toEqual([])
  })

  it('of a handle the app dropped releases its lock instead, and reports finalized', async () => {
    events = new Events('finalized', 'extended')
    const store = new FlakyStore()
    const made = await renewing(store, 600, batch, { grantedAt: performance.now() - 1_000 })
    attach(made.lease)
    await sleep(5)
    gc()
    await until(async () => (await store.holders(made.key)).length === 0, 5_000)
    await until(() => events.on('finalized', made.lease.name).length === 1, 5_000)
    // The renewal that found the handle gone sent the release, and no renewal with it.
    expect(store.calls.slice(store.calls.lastIndexOf('release')).filter((call) => call !== 'holders')).toEqual(['release'])
    const [finalized] = events.on('finalized', made.lease.name)
    expect(finalized).toEqual({ ...base(made), heldMs: expect.any(Number) })
    expect(finalized!.heldMs).toBeGreaterThanOrEqual(1_000)
    expect(finalized!.heldMs).toBeLessThanOrEqual(performance.now() - made.lease.grantedAt)
  })
})

describe('Lease renewal timing', () => {
  it('an explicit extend moves the next automatic renewal to a third of the new ttl from then', async () => {
    events = new Events()
    const store = new TimedStore()
    const made = await renewing(store, 1_500, false)
    await sleep(100)
    await made.lease.extend(3_000)
    await until(() => store.sent.length >= 2)
    expect(store.sent[1]! - store.sent[0]!).toBeGreaterThanOrEqual(1_000 - 2)
  })

  it('in one batch, a lock whose renewal window has not opened is not renewed with another’s', async () => {
    events = new Events('extended')
    const store = new TimedStore()
    const deadline = new StoreDeadline(5_000)
    const renewals = new RenewalBatch(store, deadline)
    const often = await renewing(store, 300, true, { renewals, deadline })
    const seldom = await renewing(store, 60_000, true, { renewals, deadline })
    await until(() => events.on('extended', often.lease.name).length >= 3)
    expect(events.on('extended', seldom.lease.name)).toEqual([])
  })

  it('in one batch, a lock whose renewal window has opened is renewed with the one that fell due, in one store call', async () => {
    events = new Events()
    const store = new RenewalCalls()
    const deadline = new StoreDeadline(5_000)
    const renewals = new RenewalBatch(store, deadline)
    // Due 1000 and 1050 ms after `from`; the second's window opens a thirtieth of its ttl (100 ms) before that.
    const from = performance.now()
    const first = await renewing(store, 3_000, true, { renewals, deadline, sentAt: from })
    const second = await renewing(store, 3_000, true, { renewals, deadline, sentAt: from + 50 })
    await until(() => store.calls.length > 0)
    expect(store.calls[0]).toEqual([first.key, second.key])
  })

  it('an explicit extend while an automatic renewal is out, which then fails: one renewal timer follows, not two', async () => {
    events = new Events()
    const store = new TimedStore()
    store.holdBack = true
    const made = await renewing(store, 3_000, false)
    await until(() => store.held.length === 1)
    const extended = made.lease.extend(3_000)
    await until(() => store.held.length === 2)
    store.held[1]!.pass()
    expect(await extended).toBe(true)
    // The extend armed the next renewal; the failure, 100 ms later, arms its retry in its place.
    await sleep(100)
    store.holdBack = false
    store.held[0]!.fail(new Error('connection lost'))
    await until(() => store.sent.length === 3)
    // The retry is a third of the ttl (1 s) away: nothing else goes out meanwhile.
    await sleep(400)
    expect(store.sent).toHaveLength(3)
    expect(made.lease.held).toBe(true)
  })

  it('renewNow renews at once; without autoExtend the lock then expires at its ttl, as expired', async () => {
    events = new Events('extended')
    const made = await grantLease(new MemoryStore(), { ttl: 300 })
    leases.push(made.lease)
    made.lease.renewNow()
    await until(() => events.on('extended', made.lease.name).length === 1)
    expect(events.on('extended', made.lease.name)[0]).toMatchObject({ ttlMs: 300, automatic: true })
    await until(() => made.lease.signal.aborted)
    expect((made.lease.signal.reason as LockLostError).reason).toBe('expired')
  })
})

// In a frame of its own, so nothing keeps the handle reachable.
function attach(lease: Lease): void {
  lease.attachHandle({ handle: true })
}

describe('Lease renewal and the process', () => {
  it('an automatic renewal out does not keep the process alive', async () => {
    events = new Events()
    const store = new TimedStore()
    store.holdBack = true
    await renewing(store, 600, false)
    await until(() => store.held.length === 1)
    const whileOut = refTimers()
    store.held[0]!.answer(true)
    await sleep(5)
    expect(whileOut).toBe(refTimers())
  })
})

/** Two leases renewed by `renewals`, released (the second, further down the schedule, first): weak references to them. */
async function releasedFromBatch(store: MemoryStore, renewals: RenewalBatch, deadline: StoreDeadline): Promise<WeakRef<Lease>[]> {
  const made = [await grantLease(store, { ttl: 60_000, autoExtend: true, renewals, deadline })]
  made.push(await grantLease(store, { ttl: 60_000, autoExtend: true, renewals, deadline }))
  await made[1]!.lease.release()
  await made[0]!.lease.release()
  return made.map(({ lease }) => new WeakRef(lease))
}

describe('Lease release and the renewal batch', () => {
  it('a released lease leaves the manager’s schedule at once: nothing keeps it until its renewal would have been due', async () => {
    events = new Events()
    const store = new RenewalCalls()
    const deadline = new StoreDeadline(5_000)
    const renewals = new RenewalBatch(store, deadline)
    const kept = await renewing(store, 60_000, true, { renewals, deadline })
    const released = await releasedFromBatch(store, renewals, deadline)
    await sleep(5)
    gc()
    expect(released.map((lease) => lease.deref())).toEqual([undefined, undefined])
    // The batch still renews the lease left in it (its renewal is 20 s away: none yet).
    expect(kept.lease.held).toBe(true)
    expect(store.calls).toEqual([])
  })
})

describe('Lease finalize', () => {
  it('of a lock another client took since leaves their hold', async () => {
    events = new Events()
    const store = new MemoryStore()
    const made = await grantLease(store)
    await takeOver(store, made.key)
    made.lease.finalize()
    await until(() => made.ended.length === 1)
    expect((await store.holders(made.key)).map((holder) => holder.owner)).toEqual(['other-client'])
  })

  it('after the release reports nothing', async () => {
    events = new Events('finalized')
    const made = await grantLease(new MemoryStore())
    await made.lease.release()
    made.lease.finalize()
    await sleep(5)
    expect(events.on('finalized', made.lease.name)).toEqual([])
  })
})
