import { describe, expect, test, vi } from 'vitest'
import {
  configure,
  createLockManager,
  createStore,
  defaultLockManager,
  InvalidLockArgumentError,
  LockManager,
  Locked,
} from '@cachelock/core'
import { encodeRecordValue, modelLockName, recordLockName, resolveLockManager } from '@cachelock/core/adapter-kit'
import { MemcachedStore, memcachedStoreFromUrl } from '@cachelock/core/memcached'
import { CLUSTER_URL, MEMCACHED_URL, REDIS_URL } from './support/env.js'
import { describeOutcome, outcomeOf } from './support/outcome.js'
import { Worker } from './support/processes.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 60_000 })

/**
 * Bad configuration: the factories and constructors of core × wrong types, out-of-range numbers,
 * bad URLs. They are synchronous, so the documented error (`InvalidLockArgumentError`, `code`
 * LOCK_INVALID_ARGUMENT, naming the argument) is thrown, and nothing is left open or held.
 * (RedisStore's own options are in redis-store-options.test.ts.)
 */
function expectInvalid(call: () => unknown, argument?: string | RegExp): void {
  let thrown: unknown
  try {
    call()
  } catch (error) {
    thrown = error
  }
  expect(thrown, 'should throw InvalidLockArgumentError').toBeInstanceOf(InvalidLockArgumentError)
  expect((thrown as InvalidLockArgumentError).code).toMatch(/^LOCK_(INVALID_ARGUMENT|NOT_SUPPORTED)$/)
  if (typeof argument === 'string') expect((thrown as InvalidLockArgumentError).argument).toBe(argument)
  if (argument instanceof RegExp) expect((thrown as InvalidLockArgumentError).argument).toMatch(argument)
}

const managerOptions: [string, Record<string, unknown>, string][] = [
  ['sleep 0', { sleep: 0 }, 'options.sleep'],
  ['sleep NaN', { sleep: Number.NaN }, 'options.sleep'],
  ['sleep 2^31', { sleep: 2 ** 31 }, 'options.sleep'],
  ['ttl -1', { ttl: -1 }, 'options.ttl'],
  ['ttl "1000"', { ttl: '1000' }, 'options.ttl'],
  ['timeout -1', { timeout: -1 }, 'options.timeout'],
  ['prefix 5', { prefix: 5 }, 'options.prefix'],
  ['autoExtend "yes"', { autoExtend: 'yes' }, 'options.autoExtend'],
  ['releaseOnFinalize 0', { releaseOnFinalize: 0 }, 'options.releaseOnFinalize'],
  ['unknown option', { slep: 5 }, 'options.slep'],
  ['request-only option mode', { mode: 'shared' }, 'options.mode'],
]

describe('manager options', () => {
  const stores: [string, unknown, string | RegExp][] = [
    ['42', 42, 'options.store'],
    ['null', null, 'options.store'],
    ['{}', {}, 'options.store'],
    ['an object missing holders()', { acquire() {}, release() {}, extend() {}, steal() {}, forceRelease() {} }, 'options.store'],
    ['"ftp://x"', 'ftp://x', 'options.store'],
    ['""', '', 'options.store'],
  ]
  test.each(stores)('store %s is refused by createLockManager, new LockManager and configure', (_, store, argument) => {
    const before = defaultLockManager()
    expectInvalid(() => createLockManager({ store } as never), argument)
    expectInvalid(() => new LockManager({ store } as never), argument)
    expectInvalid(() => configure({ store } as never), argument)
    expect(defaultLockManager()).toBe(before) // a refused configuration changes nothing
  })

  test.each(managerOptions)('%s is refused', (_, options, argument) => {
    expectInvalid(() => createLockManager(options), argument)
    expectInvalid(() => configure(options), argument)
  })

  test.each(['fast', 42, [], null, () => ({})])('options %o (not an object) are refused', (options) => {
    expectInvalid(() => createLockManager(options as never), 'options')
  })

  // A bad option next to a store URL must be refused before the URL's connection is opened, or
  // that connection (nobody holds a manager to close it) keeps the process alive forever.
  const urls = [
    ['redis', REDIS_URL],
    ['cluster', CLUSTER_URL],
    ['memcached', MEMCACHED_URL],
  ]
  test.each(urls.flatMap(([name, url]) => (['createLockManager', 'configure'] as const).map((via) => [name!, via, url!] as const)))(
    'a %s URL with ttl -1 given to %s: refused, and no connection keeps the process alive',
    async (_, via, url) => {
      const worker = new Worker('bad-config-worker.ts', { url, options: { ttl: -1 }, via })
      try {
        const threw = await worker.next('threw')
        expect(threw['error']).toMatchObject({ name: 'InvalidLockArgumentError', code: 'LOCK_INVALID_ARGUMENT' })
        const exited = await Promise.race([worker.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 3000))])
        expect(exited, 'the process should exit by itself within 3 s').toEqual({ code: 0, signal: null })
      } finally {
        await worker.kill()
      }
    },
  )
})

describe('createStore(url)', () => {
  const bad: unknown[] = [
    '',
    ' ',
    'not a url',
    'redis',
    'ftp://host',
    'http://127.0.0.1:6379',
    42,
    null,
    undefined,
    {},
    new URL('ftp://x'),
    'redis://127.0.0.1:99999',
    'redis+cluster://',
    'redis+cluster://127.0.0.1:notaport',
    // ioredis reads the path as the database number: "abc" is NaN, which it sends as SELECT NaN.
    `${REDIS_URL}/abc`,
    'memcached://127.0.0.1:0',
    'memcached://127.0.0.1:99999',
    'memcached://a b:11211',
    'memcached://127.0.0.1:11211?timeout=-1',
    'memcached://127.0.0.1:11211?timeout=abc',
    'memcached://127.0.0.1:11211?bogus=1',
  ]
  test.each(bad)('%o → InvalidLockArgumentError naming `url`', (url) => {
    const outcome = { value: undefined as unknown }
    try {
      outcome.value = createStore(url as string)
    } catch (error) {
      expect(error, `createStore(${String(url)})`).toBeInstanceOf(InvalidLockArgumentError)
      expect((error as InvalidLockArgumentError).argument).toBe('url')
      return
    } finally {
      void (outcome.value as { close?: () => Promise<void> } | undefined)?.close?.()
    }
    expect.unreachable(`createStore(${JSON.stringify(url)}) accepted the URL`)
  })
})

describe('memcached store construction', () => {
  test.each([null, undefined, {}, 'memcached://x', { perform: 1, incrSeq: () => 1 }])(
    'new MemcachedStore(%o) → InvalidLockArgumentError',
    (client) => {
      expectInvalid(() => new MemcachedStore(client as never), 'client')
    },
  )
  test.each([0, -1, 1.5, Number.NaN, '3'])('maxAttempts %o → InvalidLockArgumentError', (maxAttempts) => {
    expectInvalid(() => memcachedStoreFromUrl(MEMCACHED_URL, { maxAttempts: maxAttempts as number }), 'options.maxAttempts')
  })
  // Construction only: these values reach memjs unchecked, and the first operation then crashes the
  // process (timeoutMs -1 or NaN: an uncaught RangeError from socket.setTimeout inside memjs), or
  // fails with LockError while the `add` it sent went through, leaving a lock nobody owns
  // (connectTimeoutMs Infinity). Running them here would take the test runner down with them.
  test.each([
    ['timeoutMs', -1],
    ['timeoutMs', Number.NaN],
    ['connectTimeoutMs', 0],
    ['connectTimeoutMs', Infinity],
  ])('%s %o → InvalidLockArgumentError', (option, value) => {
    const outcome = { store: undefined as MemcachedStore | undefined }
    try {
      expectInvalid(() => (outcome.store = memcachedStoreFromUrl(MEMCACHED_URL, { [option]: value })), new RegExp(option))
    } finally {
      void outcome.store?.close()
    }
  })
})

describe('decorator, default manager and record names', () => {
  test('@Locked refuses bad keys and options when applied', () => {
    expectInvalid(() => Locked(42 as never), 'key')
    expectInvalid(() => Locked('-x'), 'key')
    expectInvalid(() => Locked('k', { ttl: Number.NaN }), 'options.ttl')
    expectInvalid(() => Locked('k', { steal: true, ifAvailable: true }), 'options.steal')
    expectInvalid(() => Locked('k', { locks: {} as never }), 'options.locks')
    expectInvalid(() => Locked('k', 'opts' as never), 'options')
  })

  test('@Locked with a key function returning a bad name rejects the call, without touching the store', async () => {
    const locks = createLockManager({ store: 'memory://' })
    class Billing {
      async pay(_id: unknown): Promise<unknown> {
        return expect.unreachable('ran without a lock')
      }
    }
    // Applied by hand (experimentalDecorators' calling form): vitest's transform leaves decorator syntax alone.
    const descriptor = Object.getOwnPropertyDescriptor(Billing.prototype, 'pay')!
    Locked((id: unknown) => id as string, { locks })(Billing.prototype, 'pay', descriptor)
    Object.defineProperty(Billing.prototype, 'pay', descriptor)
    for (const name of [42, null, '-x', undefined]) {
      const outcome = await outcomeOf(() => new Billing().pay(name))
      expect(describeOutcome(outcome)).toMatch(/^rejected InvalidLockArgumentError/)
    }
  })

  test('resolveLockManager refuses what is not a manager', () => {
    for (const value of [{}, null, 42, 'locks', { request() {} }]) expectInvalid(() => resolveLockManager(value, 'locks'), 'locks')
  })

  test('record names refuse values that cannot name a row', () => {
    expectInvalid(() => recordLockName('', { id: 1 }), 'model')
    expectInvalid(() => recordLockName('Order', {}), 'where')
    expectInvalid(() => recordLockName('Order', null as never), 'where')
    for (const value of [null, undefined, Number.NaN, Infinity, {}, [], Symbol('s'), new Date('invalid')]) {
      expectInvalid(() => recordLockName('Order', { id: value }), 'where.id')
      expectInvalid(() => encodeRecordValue(value), 'value')
    }
  })

  test('modelLockName refuses a model name that is not a string', () => {
    for (const model of [42, null, undefined, {}]) expectInvalid(() => modelLockName(model as never), 'model')
  })
})
