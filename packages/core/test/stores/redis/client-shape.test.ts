import { afterAll, describe, expect, test } from 'vitest'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import { RedisStore, type RedisStoreOptions } from '../../../src/stores/redis/redis-store.js'
import type { RedisClient } from '../../../src/stores/redis/client.js'
import { closeAll, connect } from './helpers.js'

afterAll(closeAll)

function refusal(client: unknown, options: RedisStoreOptions = {}): InvalidLockArgumentError {
  try {
    new RedisStore(client as RedisClient, options)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return error as InvalidLockArgumentError
  }
  return expect.unreachable('accepted the client')
}

/** What a user who hands the store the wrong kind of client reads. */
describe('a RedisStore on a client of the wrong shape', () => {
  test('a client without evalsha is refused with what was expected', () => {
    const error = refusal({ get: () => undefined })
    expect(error.argument).toBe('client')
    expect(error.message).toContain('an ioredis Redis or Cluster client')
  })

  test('waitReplicas on a client without pipeline() is refused with what it needs', () => {
    const real = connect('standalone')
    const error = refusal({ evalsha: real.evalsha.bind(real), eval: real.eval.bind(real) }, { waitReplicas: 1 })
    expect(error.argument).toBe('client')
    expect(error.message).toContain('pipeline() (ioredis) for options.waitReplicas')
  })

  test.each([
    ['scanBuffer', 'get'],
    ['get', 'scanBuffer'],
  ])('list() on a client with %s but no %s says what it needs', (has) => {
    const real = connect('standalone')
    const client = {
      evalsha: real.evalsha.bind(real),
      eval: real.eval.bind(real),
      [has]: (real as unknown as Record<string, (...args: unknown[]) => unknown>)[has]!.bind(real),
    }
    const store = new RedisStore(client as unknown as RedisClient)
    expect(() => store.list('orders:')).toThrow(new TypeError('RedisStore.list needs a client with scanBuffer() and get() (ioredis)'))
  })
})
