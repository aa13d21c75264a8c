import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockError, Locked, configure, createLockManager, createStore, type LockManager } from '@cachelock/core'
import { invalidArgument, invalidShape } from '@cachelock/core/adapter-kit'

const bad = (value: unknown) => ({ value })
const tooLong = 2 ** 31

const durations = [-5, -1, Number.NaN, Infinity, -Infinity, tooLong, '100', null, 10n, {}] as unknown[]
const names = [undefined, null, 42, {}, Symbol('s'), ['a'], '-dash'] as unknown[]

type Call = (locks: LockManager, value: unknown) => Promise<unknown>
const calls: Record<string, Call> = {
  'request(name)': (locks, name) => locks.request(name as string, () => 1),
  'withLock(name)': (locks, name) => locks.withLock(name as string, () => 1),
  'acquire(name)': (locks, name) => locks.acquire(name as string),
  'tryAcquire(name)': (locks, name) => locks.tryAcquire(name as string),
  'isLocked(name)': (locks, name) => locks.isLocked(name as string),
  'forceRelease(name)': (locks, name) => locks.forceRelease(name as string),
}

/** Every async entry point reports bad input as a rejected promise, names the argument, and leaves no lock. */
describe('bad input', () => {
  for (const [call, invoke] of Object.entries(calls)) {
    it.each(names.map(bad))(`${call} rejects name %o`, async ({ value }) => {
      const locks = createLockManager()
      let promise: Promise<unknown> | undefined
      expect(() => (promise = invoke(locks, value))).not.toThrow()
      const error = (await promise!.catch((e: unknown) => e)) as InvalidLockArgumentError
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error).toBeInstanceOf(TypeError)
      expect(error).toBeInstanceOf(LockError)
      expect(error.argument).toBe('name')
      expect(error.message).toMatch(/name|"-"/)
      expect(await locks.query()).toEqual({ held: [], pending: [] })
    })
  }

  for (const option of ['ttl', 'timeout'] as const) {
    it.each(durations.map(bad))(`rejects options.${option} = %o with a message naming it`, async ({ value }) => {
      const locks = createLockManager()
      const error = (await locks.acquire('x', { [option]: value }).catch((e: unknown) => e)) as InvalidLockArgumentError
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error.code).toBe('LOCK_INVALID_ARGUMENT')
      expect(error.message).toContain(`\`options.${option}\``)
      expect(error.message).toMatch(/got /)
      expect(await locks.isLocked('x')).toBe(false)
    })
  }

  it('accepts timeout 0 (try once) but not ttl 0', async () => {
    const locks = createLockManager()
    await expect(locks.withLock('x', () => 1, { timeout: 0 })).resolves.toBe(1)
    await expect(locks.withLock('x', () => 1, { ttl: 0 })).rejects.toThrow(
      'Expected `options.ttl` to be a finite number of milliseconds > 0',
    )
  })

  it.each([
    [{ mode: 'write' }, 'options.mode', '"exclusive" or "shared"'],
    [{ ifAvailable: 'yes' }, 'options.ifAvailable', 'a boolean'],
    [{ steal: 1 }, 'options.steal', 'a boolean'],
    [{ autoExtend: null }, 'options.autoExtend', 'a boolean'],
    [{ signal: {} }, 'options.signal', 'an AbortSignal'],
    [{ timout: 5 }, 'options.timout', 'Unknown option'],
    ['fast', 'options', 'an options object'],
  ])('rejects %o naming %s', async (options, argument, text) => {
    const locks = createLockManager()
    const error = (await locks.request('x', options as never, () => 1).catch((e: unknown) => e)) as InvalidLockArgumentError
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error.argument).toBe(argument)
    expect(error.message).toContain(text)
    expect(await locks.isLocked('x')).toBe(false)
  })

  it('rejects a missing or non-function callback', async () => {
    const locks = createLockManager()
    await expect(locks.request('x', {} as never)).rejects.toThrow('Expected `callback` to be a function, got an object')
    await expect(locks.request('x', {}, 'cb' as never)).rejects.toThrow('Expected `callback` to be a function, got "cb" (string)')
    await expect(locks.withLock('x', null as never)).rejects.toThrow('Expected `fn` to be a function, got null')
  })

  it('rejects bad release options', async () => {
    const locks = createLockManager()
    const handle = await locks.acquire('x')
    await expect(handle.release({ force: 'yes' } as never)).rejects.toThrow('Expected `options.force` to be a boolean')
    expect(handle.held).toBe(true)
    await expect(handle.extend(-1)).rejects.toThrow('Expected `ttl`')
    await handle.release()
  })

  it.each([
    [{ sleep: 0 }, 'options.sleep'],
    [{ sleep: Infinity }, 'options.sleep'],
    [{ storeTimeout: 0 }, 'options.storeTimeout'],
    [{ storeTimeout: '2s' }, 'options.storeTimeout'],
    [{ ttl: -1 }, 'options.ttl'],
    [{ prefix: 5 }, 'options.prefix'],
    [{ store: {} }, 'options.store'],
    [{ store: 'ftp://x' }, 'options.store'],
    [{ releaseOnFinalize: 'no' }, 'options.releaseOnFinalize'],
    [{ sleeep: 5 }, 'options.sleeep'],
  ])('createLockManager and configure throw synchronously for %o', (options, argument) => {
    expect(() => createLockManager(options as never)).toThrow(InvalidLockArgumentError)
    try {
      configure(options as never)
    } catch (error) {
      expect((error as InvalidLockArgumentError).argument).toBe(argument)
      return
    }
    expect.unreachable()
  })

  it('a store URL the manager refuses is blamed on options.store, where it was written', () => {
    expect(() => createLockManager({ store: 'redis:/oops' })).toThrow(/^Expected `options\.store` to be a store URL \(memory:\/\/, /)
    expect(() => createLockManager({ store: 'redis+sentinel://h:1' })).toThrow(/^Expected `options\.store` to be a Redis URL/)
    // createStore's own argument is still `url`.
    expect(() => createStore('redis:/oops')).toThrow(/^Expected `url` to be a store URL/)
  })

  it.each(['', 'not a url', 'ftp://host', 'redis', 42, null])('createStore throws for %o', (url) => {
    expect(() => createStore(url as never)).toThrow(InvalidLockArgumentError)
  })

  it('@Locked validates its arguments when applied', () => {
    expect(() => Locked(42 as never)).toThrow('Expected `key` to be a string or a function, got 42')
    expect(() => Locked('-x')).toThrow('reserved')
    expect(() => Locked('k', { ttl: -1 })).toThrow('`options.ttl`')
    expect(() => Locked('k', { locks: {} as never })).toThrow('`options.locks`')
    expect(() => Locked('k', { nope: 1 } as never)).toThrow('Unknown option `options.nope`')
  })
})

/** Adapters build their messages with core's builder, so every one reads the same way. */
describe('the adapter-kit message builder', () => {
  it('names the argument, what it expects and what came in, with the code asked for', () => {
    const unsupported = invalidArgument('options.lockIn', '"store" here', 'transaction', 'LOCK_NOT_SUPPORTED')
    expect(unsupported).toBeInstanceOf(InvalidLockArgumentError)
    expect(unsupported).toMatchObject({
      argument: 'options.lockIn',
      code: 'LOCK_NOT_SUPPORTED',
      message: 'Expected `options.lockIn` to be "store" here, got "transaction" (string)',
    })
    expect(invalidShape('instance', 'an entity', 'an empty object')).toMatchObject({
      argument: 'instance',
      code: 'LOCK_INVALID_ARGUMENT',
      message: 'Expected `instance` to be an entity, got an empty object',
    })
  })
})
