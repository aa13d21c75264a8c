import { afterAll, describe, expect, test } from 'vitest'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import { closeAll, connect, request, storeFor, uniqueKey } from './helpers.js'

afterAll(closeAll)

/**
 * With `waitReplicas` the script and `WAIT` go in one pipeline: an error of the script must reach
 * the caller as Redis gave it, not as a crash on the reply it did not send.
 */
describe('RedisStore waitReplicas, a script that fails (standalone)', () => {
  const store = storeFor('standalone', { waitReplicas: 1, waitTimeoutMs: 50 })
  const raw = connect('standalone')

  test("rejects with Redis's error when another writer left a key of the wrong type", async () => {
    const key = uniqueKey('wrongtype')
    const exclusive = lockKeys(key, '').exclusive as string
    await raw.hset(exclusive, 'not', 'a lock')
    try {
      const error = await store.acquire(request(key)).then(
        (value) => expect.fail(`expected a rejection, got ${JSON.stringify(value)}`),
        (error: unknown) => error,
      )
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toContain('WRONGTYPE')
      expect(await raw.hget(exclusive, 'not')).toBe('a lock')
    } finally {
      await raw.del(exclusive)
    }
  })
})
