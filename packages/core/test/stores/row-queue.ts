import { randomBytes } from 'node:crypto'
import { expect, test } from 'vitest'
import type { AcquireRequest, LockStore } from '../../src/store.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const uniqueKey = (label: string) => `test:fair:${label}:${randomBytes(6).toString('hex')}`
const request = (key: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest => ({
  key,
  owner: `${overrides.clientId ?? 'c0'}:${randomBytes(16).toString('hex')}`,
  mode: 'exclusive',
  ttlMs: 30_000,
  clientId: 'c0',
  waiting: false,
  pollMs: 100,
  ...overrides,
})

/**
 * The turn rules of a store that queues waiting managers in the lock's row (the database stores),
 * the same as RedisStore's queue (see redis/fairness.test.ts): the longest-waiting live manager
 * gets a free lock, a one-off attempt never takes a turn, a waiting writer is not starved by new
 * readers, a waiter that stops asking loses its turn.
 */
export function rowQueueTests(store: () => LockStore): void {
  test('a free lock goes to the longest-waiting live manager; others are told how long to wait', async () => {
    const key = uniqueKey('turn')
    const holder = request(key)
    await store().acquire(holder)
    expect((await store().acquire(request(key, { clientId: 'first', waiting: true }))).granted).toBe(false)
    expect((await store().acquire(request(key, { clientId: 'second', waiting: true }))).granted).toBe(false)
    await store().release(key, holder.owner)

    // The releasing manager asks again at once, and so does the second waiter: both refused.
    const again = await store().acquire(request(key, { clientId: 'c0' }))
    expect(again).toEqual({ granted: false, retryInMs: expect.any(Number) })
    if (!again.granted) expect(again.retryInMs).toBeLessThanOrEqual(300)
    expect((await store().acquire(request(key, { clientId: 'second', waiting: true }))).granted).toBe(false)
    const first = request(key, { clientId: 'first', waiting: true })
    expect((await store().acquire(first)).granted).toBe(true)

    await store().release(key, first.owner)
    expect((await store().acquire(request(key, { clientId: 'c0', waiting: true }))).granted).toBe(false)
    expect((await store().acquire(request(key, { clientId: 'second', waiting: true }))).granted).toBe(true)
  })

  test('a one-off attempt (ifAvailable) never takes a turn', async () => {
    const key = uniqueKey('once')
    const holder = request(key)
    await store().acquire(holder)
    expect((await store().acquire(request(key, { clientId: 'probe', waiting: false }))).granted).toBe(false)
    await store().release(key, holder.owner)
    expect((await store().acquire(request(key, { clientId: 'other' }))).granted).toBe(true)
  })

  test('a writer waiting behind readers keeps its turn while it keeps asking: new readers queue behind it', async () => {
    const key = uniqueKey('writer')
    const reader = request(key, { mode: 'shared' })
    await store().acquire(reader)
    const ask = () => store().acquire(request(key, { clientId: 'writer', waiting: true }))
    expect((await ask()).granted).toBe(false)
    for (let i = 0; i < 4; i++) {
      expect((await store().acquire(request(key, { mode: 'shared', clientId: 'late-reader', waiting: true }))).granted).toBe(false)
      await sleep(100)
      expect((await ask()).granted).toBe(false)
    }
    await store().release(key, reader.owner)
    expect((await store().acquire(request(key, { mode: 'shared', clientId: 'late-reader', waiting: true }))).granted).toBe(false)
    expect((await ask()).granted).toBe(true)
  })

  test('a waiter that stops asking is forgotten after its liveness (2 polls + 100 ms)', async () => {
    const key = uniqueKey('stale')
    const holder = request(key, { ttlMs: 1000 })
    await store().acquire(holder)
    await store().acquire(request(key, { clientId: 'stale', waiting: true, pollMs: 20 }))
    await sleep(160)
    await store().release(key, holder.owner)
    expect((await store().acquire(request(key, { clientId: 'other' }))).granted).toBe(true)
  })

  test('steal takes the lock and the thief leaves the queue', async () => {
    const key = uniqueKey('steal')
    await store().acquire(request(key))
    expect((await store().acquire(request(key, { clientId: 'thief', waiting: true }))).granted).toBe(false)
    await store().steal({ key, owner: request(key).owner, ttlMs: 1000, clientId: 'thief' })
    await store().forceRelease(key)
    expect((await store().acquire(request(key, { clientId: 'other' }))).granted).toBe(true)
  })
}
