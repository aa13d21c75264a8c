import diagnostics from 'node:diagnostics_channel'
import { afterEach, expect, test } from 'vitest'
import {
  LockNotAcquiredError,
  MemoryStore,
  channelNames,
  createLockManager,
  type NotAcquiredEvent,
  type StoreErrorEvent,
} from '../src/index.js'

const seen: { notAcquired: NotAcquiredEvent[]; storeError: StoreErrorEvent[] } = { notAcquired: [], storeError: [] }
const onNotAcquired = (event: unknown) => seen.notAcquired.push(event as NotAcquiredEvent)
const onStoreError = (event: unknown) => seen.storeError.push(event as StoreErrorEvent)
diagnostics.subscribe(channelNames.notAcquired, onNotAcquired)
diagnostics.subscribe(channelNames.storeError, onStoreError)
afterEach(() => {
  seen.notAcquired.length = 0
  seen.storeError.length = 0
})

test('cachelock:not-acquired says why each request ended without its lock', async () => {
  const locks = createLockManager({ store: new MemoryStore(), prefix: 'p:', sleep: 5 })
  const held = await locks.acquire('a')
  const timedOut = await locks.acquire('a', { timeout: 15 }).catch((error: unknown) => error)
  await locks.request('a', { ifAvailable: true }, (lock) => lock)
  const controller = new AbortController()
  const aborted = locks.acquire('a', { signal: controller.signal, mode: 'shared' }).catch((error: unknown) => error)
  controller.abort(new Error('stop'))
  await aborted
  await held.release()
  expect(timedOut).toBeInstanceOf(LockNotAcquiredError)
  expect(seen.notAcquired.map(({ name, key, mode, clientId, reason }) => ({ name, key, mode, clientId, reason }))).toEqual([
    { name: 'a', key: 'p:a', mode: 'exclusive', clientId: locks.clientId, reason: 'timeout' },
    { name: 'a', key: 'p:a', mode: 'exclusive', clientId: locks.clientId, reason: 'unavailable' },
    { name: 'a', key: 'p:a', mode: 'shared', clientId: locks.clientId, reason: 'aborted' },
  ])
  expect(seen.notAcquired[0]!.waitMs).toBeGreaterThanOrEqual(14)
  expect(seen.notAcquired[0]!.error).toBe(timedOut)
  expect(seen.notAcquired[1]!.error).toBeUndefined()
})

test('cachelock:store-error: one event per failed store call, with the operation and the store’s error', async () => {
  const locks = createLockManager({ store: 'redis://127.0.0.1:1' })
  try {
    const error = await locks.acquire('b').catch((caught: unknown) => caught)
    expect(seen.storeError).toHaveLength(1)
    expect(seen.storeError[0]).toMatchObject({ name: 'b', operation: 'acquire' })
    expect(seen.storeError[0]!.error).toBe((error as Error).cause)
    expect(seen.notAcquired).toMatchObject([{ name: 'b', reason: 'store-error', error }])
  } finally {
    await locks.close()
  }
})
