import { describe, expect, it, vi } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

/**
 * Grants reach their callbacks in the order their store attempts were sent, across names, even
 * when the store answers out of order (a Redis Cluster or a multi-server memcached keeps two names
 * on two servers). Here the store answers for `a` later than for `b`.
 */
function slowOn(key: string, ms: number): FlakyStore {
  const store = new FlakyStore()
  store.keyLatencyMs.set(key, ms)
  return store
}

describe('grant order across names', () => {
  it('shared requests at the head are asked for together and granted before a later request on another name', async () => {
    const locks = createLockManager({ store: slowOn('a', 40), prefix: '' })
    const granted: string[] = []
    let unblock!: () => void
    const blocked = new Promise<void>((resolve) => (unblock = resolve))
    const shared = [1, 2, 3].map((n) =>
      locks.request('a', { mode: 'shared' }, async () => {
        granted.push(`a-shared-${n}`)
        await blocked
      }),
    )
    const exclusive = locks.request('a', () => void granted.push('a-exclusive'))
    await locks.request('b', () => void granted.push('b-exclusive'))
    expect(granted).toEqual(['a-shared-1', 'a-shared-2', 'a-shared-3', 'b-exclusive'])
    unblock()
    await Promise.all([...shared, exclusive])
    expect(granted.at(-1)).toBe('a-exclusive')
  })

  it('a grant waits only for attempts sent before its own: a request blocked until later does not hold it back', async () => {
    const locks = createLockManager({ store: slowOn('b', 40), prefix: '' })
    const granted: number[] = []
    let inner!: Promise<unknown>
    await locks.request('a', async () => {
      inner = Promise.all([locks.request('a', () => void granted.push(1)), locks.request('b', () => void granted.push(2))])
    })
    await inner
    // `b` was asked for first (the second `a` waited for the first one's release): it comes first,
    // although the store answered the second `a` before it.
    expect(granted).toEqual([2, 1])
  })

  it('a grant held back for an earlier attempt is given back if its request is aborted meanwhile', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, prefix: '' })
    // The attempt for `a` stays out until resume(); later calls go through.
    store.paused.add('acquire')
    const first = locks.request('a', () => 'a')
    store.paused.delete('acquire')
    const controller = new AbortController()
    const second = locks.request('b', { signal: controller.signal }, () => 'b')
    // The store granted `b`, but the grant waits for `a`'s answer; abort it in between.
    await vi.waitFor(async () => expect(await store.holders('b')).toHaveLength(1))
    controller.abort(new Error('gave up'))
    await expect(second).rejects.toThrow('gave up')
    store.resume()
    await expect(first).resolves.toBe('a')
    await vi.waitFor(async () => expect(await store.holders('b')).toEqual([]))
    await expect(locks.withLock('b', () => 'free', { timeout: 0 })).resolves.toBe('free')
  })
})
