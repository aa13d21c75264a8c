import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import type { RedisClient } from '../../../src/stores/redis/client.js'
import { RedisStore, type RedisStoreOptions } from '../../../src/stores/redis/redis-store.js'
import { closeAll, connect } from './helpers.js'

afterAll(closeAll)
afterEach(() => {
  vi.useRealTimers()
})

/** A client shape with no server behind it: constructing and closing a store sends no command. */
function standIn(extra: Partial<Record<'status' | 'options' | 'quit' | 'disconnect', unknown>> = {}) {
  const calls: string[] = []
  const client = {
    evalsha: () => Promise.reject(new Error('no server')),
    eval: () => Promise.reject(new Error('no server')),
    duplicate: () => expect.unreachable('no subscriber'),
    quit: () => (calls.push('quit'), Promise.resolve('OK')),
    disconnect: () => void calls.push('disconnect'),
    ...extra,
  }
  return { client: client as unknown as RedisClient, calls }
}

function refusal(options: unknown, ...client: unknown[]): InvalidLockArgumentError {
  try {
    new RedisStore((client.length ? client[0] : standIn().client) as RedisClient, options as RedisStoreOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return error as InvalidLockArgumentError
  }
  return expect.unreachable(`accepted ${String(options)}`)
}

describe('new RedisStore(client, options)', () => {
  it('accepts zero where zero means "off", and each documented option by name', () => {
    const { client } = standIn()
    const all: RedisStoreOptions = {
      commandTimeoutMs: 0,
      subscriberIdleMs: 0,
      handoffGraceMs: 0,
      fenceTtlFactor: 1000,
      waiterLivenessPolls: 1000,
      closeClient: true,
      lastError: () => undefined,
    }
    expect(() => new RedisStore(client, all)).not.toThrow()
    // A client without ioredis's `options` (any client of the same shape) is fine too.
    expect(() => new RedisStore(client)).not.toThrow()
  })

  it('refuses what cannot be an option, naming it', () => {
    expect(refusal({ fenceTtlFactor: 1001 }).argument).toBe('options.fenceTtlFactor')
    expect(refusal({ waiterLivenessPolls: 1001 }).argument).toBe('options.waiterLivenessPolls')
    expect(refusal({ fenceTtlFactor: 0 }).argument).toBe('options.fenceTtlFactor')
    expect(refusal({ commandTimeoutMs: -1 }).argument).toBe('options.commandTimeoutMs')
    expect(refusal({ closeClient: 'yes' }).argument).toBe('options.closeClient')
    expect(refusal({ lastError: 'ECONNREFUSED' }).argument).toBe('options.lastError')
    expect(refusal({ timeoutMs: 5 }).argument).toBe('options.timeoutMs')
  })

  it('refuses a client without evalsha, naming it', () => {
    for (const client of [undefined, null, 'redis://localhost', {}, { evalsha: 'no' }]) expect(refusal({}, client).argument).toBe('client')
  })
})

describe('RedisStore close()', () => {
  it('leaves the app’s own client open', async () => {
    const client = connect('standalone')
    await new RedisStore(client).close()
    expect(await client.ping()).toBe('PONG')
  })

  it('with closeClient, quits a ready client politely, and disconnects one that is not ready or does not quit', async () => {
    const ready = standIn({ status: 'ready' })
    await new RedisStore(ready.client, { closeClient: true }).close()
    expect(ready.calls).toEqual(['quit'])

    const unknownStatus = standIn()
    await new RedisStore(unknownStatus.client, { closeClient: true }).close()
    expect(unknownStatus.calls).toEqual(['quit'])

    const reconnecting = standIn({ status: 'reconnecting' })
    await new RedisStore(reconnecting.client, { closeClient: true }).close()
    expect(reconnecting.calls).toEqual(['disconnect'])

    const refusing = standIn({ status: 'ready', quit: () => Promise.reject(new Error('connection closed')) })
    await new RedisStore(refusing.client, { closeClient: true }).close()
    expect(refusing.calls).toEqual(['disconnect'])

    const noQuit = standIn({ quit: undefined })
    await new RedisStore(noQuit.client, { closeClient: true }).close()
    expect(noQuit.calls).toEqual(['disconnect'])
    await new RedisStore(standIn({ quit: undefined, disconnect: undefined }).client, { closeClient: true }).close()
  })

  it('with closeClient, disconnects a client whose QUIT never answers, after 2 s', async () => {
    vi.useFakeTimers()
    const stuck = standIn({ status: 'ready', quit: () => new Promise(() => undefined) })
    let closed = false
    const closing = new RedisStore(stuck.client, { closeClient: true }).close().then(() => (closed = true))
    await vi.advanceTimersByTimeAsync(1999)
    expect([closed, stuck.calls]).toEqual([false, []])
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect(stuck.calls).toEqual(['disconnect'])
  })
})
