import { afterEach, describe, expect, it, vi } from 'vitest'
import { RedisTimeoutError, ScriptRunner, type RedisClient } from '../../../src/stores/redis/client.js'
import { HOLDERS } from '../../../src/stores/redis/scripts.js'

/**
 * The script runner on its own, over a client whose replies the test decides (the store's behaviour
 * against the real server is in the other files): the `EVAL` fallback, the deadline sweep, and the
 * cause it attaches.
 */
function client(evalsha: RedisClient['evalsha'], evalScript: RedisClient['eval'] = () => Promise.resolve('eval')): RedisClient {
  return { evalsha, eval: evalScript, duplicate: () => expect.unreachable('no subscriber here') }
}
const never = () => new Promise<never>(() => undefined)
const named = (name: string, message = name) => Object.assign(new Error(message), { name })

afterEach(() => {
  vi.useRealTimers()
})

describe('RedisTimeoutError', () => {
  it('names the operation and the deadline, and the last connection error when there was one', () => {
    const refused = new Error('connect ECONNREFUSED')
    const error = new RedisTimeoutError('acquire', 500, refused)
    expect(error).toMatchObject({ name: 'RedisTimeoutError', code: 'ETIMEDOUT', cause: refused })
    expect(error.message).toBe('Redis did not answer acquire within 500 ms (last connection error: connect ECONNREFUSED)')
    const bare = new RedisTimeoutError('release', 10)
    expect(bare.message).toBe('Redis did not answer release within 10 ms')
    expect('cause' in bare).toBe(false)
  })
})

describe('ScriptRunner', () => {
  it('falls back to EVAL only when the server does not know the script', async () => {
    const evals: string[] = []
    const evalScript = (source: string) => (evals.push(source), Promise.resolve('from eval'))
    const noScript = new ScriptRunner(
      client(() => Promise.reject(new Error('NOSCRIPT No matching script')), evalScript),
      0,
      () => undefined,
    )
    expect(await noScript.run(HOLDERS, ['k'], [])).toBe('from eval')
    expect(evals).toEqual([HOLDERS.source])

    const failing = new ScriptRunner(
      client(() => Promise.reject(new Error('ERR wrong number of arguments')), evalScript),
      0,
      () => undefined,
    )
    await expect(failing.run(HOLDERS, ['k'], [])).rejects.toThrow('ERR wrong number')
    await expect(
      new ScriptRunner(
        client(() => Promise.reject('NOSCRIPT'), evalScript),
        0,
        () => undefined,
      ).run(HOLDERS, [], []),
    ).rejects.toBe('NOSCRIPT')
    expect(evals).toHaveLength(1)
  })

  it('attaches the last connection error to a MaxRetriesPerRequestError, with or without a deadline', async () => {
    const last = new Error('getaddrinfo ENOTFOUND')
    for (const timeoutMs of [0, 10_000]) {
      const gaveUp = named('MaxRetriesPerRequestError')
      await expect(
        new ScriptRunner(
          client(() => Promise.reject(gaveUp)),
          timeoutMs,
          () => last,
        ).run(HOLDERS, [], []),
      ).rejects.toBe(gaveUp)
      expect(gaveUp.cause).toBe(last)
    }
    // Anything else, an error that has its cause, or no known connection error: left as it is.
    const other = named('ReplyError')
    await expect(
      new ScriptRunner(
        client(() => Promise.reject(other)),
        0,
        () => last,
      ).run(HOLDERS, [], []),
    ).rejects.toBe(other)
    const ownCause = Object.assign(named('MaxRetriesPerRequestError'), { cause: 'own' })
    await expect(
      new ScriptRunner(
        client(() => Promise.reject(ownCause)),
        0,
        () => last,
      ).run(HOLDERS, [], []),
    ).rejects.toBe(ownCause)
    const unknown = named('MaxRetriesPerRequestError')
    await expect(
      new ScriptRunner(
        client(() => Promise.reject(unknown)),
        0,
        () => undefined,
      ).run(HOLDERS, [], []),
    ).rejects.toBe(unknown)
    expect(ownCause.cause).toBe('own')
    expect('cause' in other || 'cause' in unknown).toBe(false)
  })

  it('with a deadline of 0 waits as long as the call takes', async () => {
    const slow = () => new Promise((resolve) => setTimeout(() => resolve('late'), 30))
    expect(await new ScriptRunner(client(slow), 0, () => undefined).run(HOLDERS, [], [])).toBe('late')
  })

  it('rejects a call once its deadline has passed, with one sweeping timer that stops when nothing is in flight', async () => {
    vi.useFakeTimers()
    const runner = new ScriptRunner(client(never), 40, () => undefined)
    const first = runner.run(HOLDERS, [], [])
    const outcome = first.then(
      () => 'resolved',
      (error: unknown) => error,
    )
    await vi.advanceTimersByTimeAsync(20)
    const second = runner.run(HOLDERS, [], []).catch((error: unknown) => error)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(20) // the first call's deadline, exactly
    expect(await outcome).toBeInstanceOf(RedisTimeoutError)
    expect(await Promise.race([second, Promise.resolve('pending')])).toBe('pending')
    await vi.advanceTimersByTimeAsync(20)
    expect(await second).toMatchObject({ name: 'RedisTimeoutError', message: 'Redis did not answer holders within 40 ms' })
    await vi.advanceTimersByTimeAsync(10)
    expect(vi.getTimerCount()).toBe(0)
  })
})
