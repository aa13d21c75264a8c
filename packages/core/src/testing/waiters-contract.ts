import assert from 'node:assert/strict'
import type { AcquireRequest, LockMode, LockStore } from '@cachelock/core'
import { grant, sleep, type ContractContext } from './context.js'

/** How often the waiters in these tests ask, in ms: a store forgets a waiter after a few of these. */
const POLL_MS = 50

function attempt(key: string, owner: string, clientId: string, mode: LockMode, more: Partial<AcquireRequest> = {}): AcquireRequest {
  return { key, owner, mode, ttlMs: 30_000, clientId, waiting: false, pollMs: POLL_MS, ...more }
}

async function waiting(store: LockStore, key: string): Promise<string[]> {
  const waiters = await store.waiters?.(key)
  assert.ok(waiters, 'the store has no waiters()')
  return waiters.map((waiter) => `${waiter.clientId}:${waiter.mode}`).sort()
}

/** Wait until `clientId` is no longer listed for `key`; fail after `timeoutMs`. */
async function forgotten(store: LockStore, key: string, clientId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await waiting(store, key)).some((entry) => entry.startsWith(`${clientId}:`))) {
    if (Date.now() > deadline) assert.fail(`${clientId} still listed as waiting for ${key} after ${timeoutMs} ms`)
    await sleep(POLL_MS / 2)
  }
}

/**
 * `LockStore.waiters`, for stores that implement it (`lockStoreContract(…, { waiters: true })`).
 * Each manager is a `clientId` of its own, as two `LockManager`s on the store would be.
 */
export function waitersContract({ api, store, key, owner }: ContractContext): void {
  const { it } = api

  it('waiters: a refused request that waits is listed with its manager and mode; a once refusal and the holder are not', async () => {
    const k = key('waiters')
    assert.equal((await store().acquire(attempt(k, owner(), 'holder', 'exclusive'))).granted, true)
    assert.deepEqual(await waiting(store(), k), [])
    assert.equal((await store().acquire(attempt(k, owner(), 'writer', 'exclusive'))).granted, false)
    assert.equal((await store().acquire(attempt(k, owner(), 'reader', 'shared'))).granted, false)
    assert.equal((await store().acquire(attempt(k, owner(), 'tryer', 'exclusive', { once: true }))).granted, false)
    assert.equal((await store().acquire(attempt(k, owner(), 'tryer2', 'shared', { once: true }))).granted, false)
    assert.deepEqual(await waiting(store(), k), ['reader:shared', 'writer:exclusive'])
    assert.deepEqual(await waiting(store(), key('waiters-other')), [])
  })

  it('waiters: a grant removes the manager; another waiter stays listed', async () => {
    const k = key('waiters-grant')
    const holder = owner()
    await grant(store(), k, holder, 30_000)
    assert.equal((await store().acquire(attempt(k, owner(), 'first', 'exclusive'))).granted, false)
    assert.equal((await store().acquire(attempt(k, owner(), 'second', 'exclusive'))).granted, false)
    assert.deepEqual(await waiting(store(), k), ['first:exclusive', 'second:exclusive'])
    assert.equal(await store().release(k, holder), true)
    // A store may keep a free lock for the longest waiter (fairness): `first` asked first.
    const granted = owner()
    assert.equal((await store().acquire(attempt(k, granted, 'first', 'exclusive', { waiting: true }))).granted, true)
    assert.deepEqual(await waiting(store(), k), ['second:exclusive'])
    // Released again, then a `once` try of the same manager is refused (the lock is taken meanwhile): still not waiting.
    assert.equal(await store().release(k, granted), true)
    assert.equal((await store().acquire(attempt(k, owner(), 'second', 'exclusive', { waiting: true }))).granted, true)
    assert.equal((await store().acquire(attempt(k, owner(), 'first', 'exclusive', { once: true }))).granted, false)
    assert.deepEqual(await waiting(store(), k), [])
  })

  it('waiters: a manager that keeps asking stays listed; one that stops asking is forgotten after a few of its polls', async () => {
    const k = key('waiters-stop')
    await grant(store(), k, owner(), 30_000)
    assert.equal((await store().acquire(attempt(k, owner(), 'stays', 'exclusive'))).granted, false)
    assert.equal((await store().acquire(attempt(k, owner(), 'leaves', 'shared'))).granted, false)
    // Ten polls: longer than any store keeps a silent waiter, so `leaves` must be gone by then.
    for (let poll = 0; poll < 10; poll++) {
      await sleep(POLL_MS)
      assert.equal((await store().acquire(attempt(k, owner(), 'stays', 'exclusive', { waiting: true }))).granted, false)
    }
    assert.deepEqual(await waiting(store(), k), ['stays:exclusive'])
    await forgotten(store(), k, 'stays', 5000)
  })
}
