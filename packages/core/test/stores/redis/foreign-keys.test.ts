import { afterAll, describe, expect, test } from 'vitest'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import { MODES, closeAll, connect, request, storeFor, uniqueKey } from './helpers.js'

afterAll(closeAll)

/** A holder key without an expiry can only come from another writer; the store reports it, without inventing a remaining ttl. */
describe.each(MODES)('RedisStore, a lock key with no expiry (%s)', (mode) => {
  const store = storeFor(mode)
  const raw = connect(mode)

  test('is a holder with no remaining ttl, and a refusal says no retry time', async () => {
    const key = uniqueKey('foreign')
    await raw.set(lockKeys(key, '').exclusive, 'someone')
    try {
      expect(await store.holders(key)).toEqual([{ owner: 'someone', mode: 'exclusive' }])
      expect(await store.acquire(request(key))).toEqual({ granted: false })
    } finally {
      await raw.del(lockKeys(key, '').exclusive as string)
    }
  })
})
