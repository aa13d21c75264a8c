import diagnostics from 'node:diagnostics_channel'
import { afterAll, describe, expect, test } from 'vitest'
import { channelNames } from '../../../src/events.js'
import { createLockManager, type LockManager } from '../../../src/lock-manager.js'
import type { RedisStore } from '../../../src/stores/redis/redis-store.js'
import type { AcquireRequest } from '../../../src/store.js'
import { closeAll, connect, sleep, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

/**
 * What a manager's queue does with a release handed over (`Handover`) on a real Redis: only the
 * manager whose refused attempt the lock was handed to takes it, as an exclusive lease that it
 * renews at once (the claim lasts `handoffGraceMs`); every other manager keeps waiting without
 * asking. Holder and waiters are separate managers on separate clients, like app servers.
 */

/** A manager on its own client, whose attempts the test can count. */
function waiter(prefix: string, options: { ttl?: number } = {}) {
  const store = storeFor('standalone')
  const attempts: AcquireRequest[] = []
  const acquire = store.acquire.bind(store)
  store.acquire = (request) => (attempts.push(request), acquire(request))
  // A long poll: after its refusal a waiter asks again only when woken.
  const locks = createLockManager({ store, prefix, sleep: 10_000, ...options })
  return { store, attempts, locks }
}

let raw: ReturnType<typeof connect> | undefined

async function parkedCount(locks: LockManager, name: string): Promise<number> {
  raw ??= connect('standalone')
  return (await raw.eval("return redis.call('HLEN', KEYS[1])", 1, `{${locks.keyFor(name)}}:p`)) as number
}

/** Until `count` managers are parked (their refused attempt sent as a waiter). */
async function parked(locks: LockManager, name: string, count: number): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if ((await parkedCount(locks, name)) >= count) return
    await sleep(20)
  }
  expect.fail(`never ${count} parked`)
}

/** Once no attempt was sent for 200 ms (the waiter pauses for its 10 s poll): how many were. */
async function quiet(attempts: AcquireRequest[]): Promise<number> {
  for (;;) {
    const count = attempts.length
    await sleep(200)
    if (attempts.length === count) return count
  }
}

function tracked<T>(promise: Promise<T>) {
  const state = { settled: false, promise }
  void promise.then(() => (state.settled = true))
  return state
}

describe('a handover on standalone Redis', () => {
  test.each(['exclusive', 'shared'] as const)(
    'goes to the parked exclusive waiter only; a second manager waiting (%s) asks nothing until that one releases',
    async (secondMode) => {
      const prefix = `qh-${uniqueKey('m')}:`
      const holder = createLockManager({ store: storeFor('standalone', { handOver: true }), prefix })
      const first = waiter(prefix)
      const second = waiter(prefix)
      const held = await holder.acquire('job')
      const firstWait = tracked(first.locks.acquire('job'))
      await parked(first.locks, 'job', 1)
      const secondWait = tracked(second.locks.acquire('job', { mode: secondMode }))
      await until(() => second.attempts.some((attempt) => attempt.waiting), 5000)
      const secondAsked = await quiet(second.attempts)

      await held.release()
      const handle = await firstWait.promise
      expect(handle.mode).toBe('exclusive')
      // The other manager's wake-up named another owner: it neither took the lock nor asked.
      await sleep(200)
      expect(secondWait.settled).toBe(false)
      expect(second.attempts.length).toBe(secondAsked)

      await handle.release()
      await (await secondWait.promise).release()
      await Promise.all([holder.close(), first.locks.close(), second.locks.close()])
    },
  )

  test('only attempts after a refusal are sent as a waiter; after the handover, none is', async () => {
    const prefix = `qh-${uniqueKey('m')}:`
    const holder = createLockManager({ store: storeFor('standalone', { handOver: true }), prefix })
    const { attempts, locks } = waiter(prefix)
    const held = await holder.acquire('job')
    const waiting = locks.acquire('job')
    await parked(locks, 'job', 1)
    // The first attempt did not know it would wait: the store must not queue it as a waiter.
    expect(attempts[0]!.waiting).toBe(false)
    const released: { heldMs: number }[] = []
    const onReleased = (message: unknown) => released.push(message as { heldMs: number })
    diagnostics.subscribe(channelNames.released, onReleased)
    await held.release()
    const handle = await waiting
    // The next request of this manager, asked for once the handed-over lock is released.
    const before = attempts.length
    const next = locks.acquire('job')
    await handle.release()
    await (await next).release()
    expect(attempts.slice(before).map((attempt) => attempt.waiting)).toEqual([false])
    diagnostics.unsubscribe(channelNames.released, onReleased)
    // Held from the handover on, not from a moment a whole ttl before the claim ends.
    expect(released.map((event) => event.heldMs < 10_000)).toEqual([true, true, true])
    await Promise.all([holder.close(), locks.close()])
  })

  test('a handover the waiter can no longer trust (its claim bound passed) is confirmed by an attempt first', async () => {
    const prefix = `qh-${uniqueKey('m')}:`
    const holder = createLockManager({ store: storeFor('standalone', { handOver: true }), prefix })
    // handoffGraceMs 0: by this waiter's clock, a claim handed to it has ended by the time it hears of it.
    const store = storeFor('standalone', { handoffGraceMs: 0 })
    const attempts: AcquireRequest[] = []
    const acquire = store.acquire.bind(store)
    store.acquire = (request) => (attempts.push(request), acquire(request))
    const locks = createLockManager({ store, prefix, sleep: 10_000 })
    const held = await holder.acquire('job')
    const waiting = locks.acquire('job')
    await parked(locks, 'job', 1)
    const before = attempts.length
    await held.release()
    const handle = await waiting
    expect(attempts.length).toBe(before + 1)
    await handle.release()
    await Promise.all([holder.close(), locks.close()])
  })

  test('a handover that lands while the waiter has an attempt out makes it ask again at once, not after its poll', async () => {
    const prefix = `qh-${uniqueKey('m')}:`
    const holder = createLockManager({ store: storeFor('standalone', { handOver: true }), prefix })
    const store = storeFor('standalone')
    // The parking attempt reaches the server (refused, parked) but its answer is held back until
    // the holder's release was handed to it and the wake-up came: the order a slow reply gives.
    const attempts: AcquireRequest[] = []
    let answer: (() => void) | undefined
    const acquire = store.acquire.bind(store)
    store.acquire = async (request) => {
      attempts.push(request)
      const result = await acquire(request)
      if (request.waiting && !result.granted && attempts.length === 2) await new Promise<void>((resolve) => (answer = resolve))
      return result
    }
    const handovers: unknown[] = []
    const onRelease = store.onRelease.bind(store)
    store.onRelease = (key, wake) => onRelease(key, (handover) => (handover && handovers.push(handover), wake(handover)))
    // A poll far longer than the test's timeout: only the wake-up can get the lock in time.
    const locks = createLockManager({ store, prefix, sleep: 120_000 })
    const held = await holder.acquire('job', { ttl: 120_000 })
    const waiting = tracked(locks.acquire('job'))
    await until(() => answer !== undefined, 5000)
    await held.release()
    await until(() => handovers.length === 1, 5000)
    answer!()
    await until(() => waiting.settled, 10_000)
    // Asked once more after the held-back refusal: that attempt took the handed lock over.
    expect(attempts).toHaveLength(3)
    await (await waiting.promise).release()
    await Promise.all([holder.close(), locks.close()])
  })

  test('a handed-over lock whose first renewal fails is lost by the end of its claim, not of its ttl', async () => {
    const prefix = `qh-${uniqueKey('m')}:`
    const holder = createLockManager({ store: storeFor('standalone', { handOver: true }), prefix })
    const { store, locks } = waiter(prefix, { ttl: 30_000 })
    const held = await holder.acquire('job')
    const waiting = locks.acquire('job')
    await parked(locks, 'job', 1)
    breakRenewals(store)
    await held.release()
    const handle = await waiting
    // The claim is handoffGraceMs (500 ms); the ttl asked for is 30 s.
    for (let i = 0; i < 250 && !handle.signal.aborted; i++) await sleep(20)
    expect(handle.signal.aborted).toBe(true)
    await Promise.all([holder.close(), locks.close()])
  })
})

function breakRenewals(store: RedisStore): void {
  const fail = () => Promise.reject(new Error('connection lost during extend'))
  store.extend = fail
  if (store.extendMany) store.extendMany = fail
}
