import { afterAll, describe, expect, test } from 'vitest'
import { createLockManager, InvalidLockArgumentError, LockError, type LockHandle, type LockManager } from '@cachelock/core'
import { withRecordLocks } from '@cachelock/core/adapter-kit'
import { STORES, uniquePrefix } from './support/env.js'
import { isDatabaseUrl } from './support/database-keys.js'
import { describeOutcome, outcomeOf } from './support/outcome.js'
import { keysUnder } from './support/store-keys.js'

/**
 * Every lock operation × bad input, on the real stores: the documented error
 * (`InvalidLockArgumentError`, a `TypeError` and a `LockError`, `code` LOCK_INVALID_ARGUMENT or, for
 * what Web Locks calls NotSupportedError, LOCK_NOT_SUPPORTED), as a rejection (these functions
 * are async), and nothing at all in the store afterwards: no lock, no counter, no queue entry,
 * checked by listing the server's keys under the test's prefix.
 *
 * Core's own validation tests check the messages on the memory store; this is about what reaches
 * a real server.
 */
const names: unknown[] = [undefined, null, 42, {}, Symbol('s'), ['a'], new String('x'), '-dash', '-', () => 'x']
const durations: unknown[] = [
  -5,
  -1,
  -0.5,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  Number.MAX_SAFE_INTEGER,
  1e308,
  '100',
  null,
  10n,
  {},
  true,
]
const badOptions: [string, unknown][] = [
  ['mode "write"', { mode: 'write' }],
  ['mode "EXCLUSIVE"', { mode: 'EXCLUSIVE' }],
  ['mode null', { mode: null }],
  ['ifAvailable "yes"', { ifAvailable: 'yes' }],
  ['steal 1', { steal: 1 }],
  ['autoExtend 0', { autoExtend: 0 }],
  ['signal {}', { signal: {} }],
  ['signal "abort"', { signal: 'abort' }],
  ['unknown option', { timout: 5 }],
  ['__proto__ pollution', JSON.parse('{"__proto__": {"steal": true}, "ttl": 5}')],
  ['options "fast"', 'fast'],
  ['options 42', 42],
  ['options []', []],
  ['options null', null],
]
const unsupported: [string, () => Record<string, unknown>][] = [
  ['steal + ifAvailable', () => ({ steal: true, ifAvailable: true })],
  ['steal + shared', () => ({ steal: true, mode: 'shared' })],
  ['signal + steal', () => ({ signal: new AbortController().signal, steal: true })],
  ['signal + ifAvailable', () => ({ signal: new AbortController().signal, ifAvailable: true })],
]

type Call = (locks: LockManager, value: unknown) => Promise<unknown>
const byName: Record<string, Call> = {
  'request(name, cb)': (locks, name) => locks.request(name as string, () => 1),
  'request(name, {}, cb)': (locks, name) => locks.request(name as string, {}, () => 1),
  'withLock(name, fn)': (locks, name) => locks.withLock(name as string, () => 1),
  'acquire(name)': (locks, name) => locks.acquire(name as string),
  'tryAcquire(name)': (locks, name) => locks.tryAcquire(name as string),
  'isLocked(name)': (locks, name) => locks.isLocked(name as string),
  'forceRelease(name)': (locks, name) => locks.forceRelease(name as string),
}
const byOptions: Record<string, Call> = {
  'request(n, options, cb)': (locks, options) => locks.request('n', options as never, () => 1),
  'withLock(n, fn, options)': (locks, options) => locks.withLock('n', () => 1, options as never),
  'acquire(n, options)': (locks, options) => locks.acquire('n', options as never),
}

/** Build the cases once: [label, call]. */
type Case = [label: string, code: string, call: (locks: LockManager) => Promise<unknown>]

function cases(): Case[] {
  const list: Case[] = []
  for (const [call, invoke] of Object.entries(byName)) {
    for (const name of names) {
      const code = typeof name === 'string' && name.startsWith('-') ? 'LOCK_NOT_SUPPORTED' : 'LOCK_INVALID_ARGUMENT'
      list.push([`${call} with name ${show(name)}`, code, (locks) => invoke(locks, name)])
    }
  }
  for (const [call, invoke] of Object.entries(byOptions)) {
    for (const option of ['ttl', 'timeout'] as const) {
      for (const value of durations)
        list.push([`${call} with ${option} ${show(value)}`, 'LOCK_INVALID_ARGUMENT', (locks) => invoke(locks, { [option]: value })])
    }
    list.push([`${call} with ttl 0`, 'LOCK_INVALID_ARGUMENT', (locks) => invoke(locks, { ttl: 0 })])
    list.push([`${call} with ttl -0`, 'LOCK_INVALID_ARGUMENT', (locks) => invoke(locks, { ttl: -0 })])
    for (const [label, options] of badOptions)
      list.push([`${call} with ${label}`, 'LOCK_INVALID_ARGUMENT', (locks) => invoke(locks, options)])
    for (const [label, options] of unsupported)
      list.push([`${call} with ${label}`, 'LOCK_NOT_SUPPORTED', (locks) => invoke(locks, options())])
  }
  list.push(['tryAcquire(n, { ttl: -1 })', 'LOCK_INVALID_ARGUMENT', (locks) => locks.tryAcquire('n', { ttl: -1 })])
  list.push([
    'acquire(n, { releaseOnFinalize: "no" })',
    'LOCK_INVALID_ARGUMENT',
    (locks) => locks.acquire('n', { releaseOnFinalize: 'no' as never }),
  ])
  list.push([
    'request(n, { releaseOnFinalize: true }, cb) (a handle-only option)',
    'LOCK_INVALID_ARGUMENT',
    (locks) => locks.request('n', { releaseOnFinalize: true } as never, () => 1),
  ])
  list.push([
    'request(n) without a callback',
    'LOCK_INVALID_ARGUMENT',
    (locks) => (locks.request as (name: string) => Promise<unknown>)('n'),
  ])
  list.push(['request(n, {}, "cb")', 'LOCK_INVALID_ARGUMENT', (locks) => locks.request('n', {}, 'cb' as never)])
  list.push(['request(n, {}) (options, no callback)', 'LOCK_INVALID_ARGUMENT', (locks) => locks.request('n', {} as never)])
  list.push(['withLock(n, null)', 'LOCK_INVALID_ARGUMENT', (locks) => locks.withLock('n', null as never)])
  list.push(['withLock(n, fn, "opts")', 'LOCK_INVALID_ARGUMENT', (locks) => locks.withLock('n', () => 1, 'opts' as never)])
  return list
}

/** A bad value, readable in a test name. */
function show(value: unknown): string {
  if (typeof value === 'symbol') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (value instanceof String) return 'new String("x")'
  return JSON.stringify(value) ?? String(value)
}

describe.each(STORES)('bad input on $name', (store) => {
  const prefix = uniquePrefix('bad-input')
  const locks = createLockManager({ store: store.url, prefix, sleep: store.sleep })
  afterAll(() => locks.close())

  test.each(cases())('%s → rejects with InvalidLockArgumentError (%s)', async (_, code, call) => {
    const outcome = await outcomeOf(() => call(locks))
    expect(outcome.kind, describeOutcome(outcome)).toBe('rejected')
    const error = (outcome as { error: InvalidLockArgumentError }).error
    expect(error, describeOutcome(outcome)).toBeInstanceOf(InvalidLockArgumentError)
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe(code)
    expect(error.argument).toEqual(expect.any(String))
  })

  test('bad input on a held lock (handle.release, handle.extend, lock.extend) rejects and leaves it held, then it releases normally', async () => {
    const handle = await locks.acquire('held')
    const bad: [string, () => Promise<unknown>][] = [
      ['release({ force: "yes" })', () => handle.release({ force: 'yes' } as never)],
      ['release("force")', () => handle.release('force' as never)],
      ['release({ forse: true })', () => handle.release({ forse: true } as never)],
      ['release(null)', () => handle.release(null as never)],
      ...[-1, 0, Number.NaN, Infinity, 2 ** 31, '5'].map((ttl): [string, () => Promise<unknown>] => [
        `extend(${show(ttl)})`,
        () => handle.extend(ttl as number),
      ]),
    ]
    for (const [label, call] of bad) {
      const outcome = await outcomeOf(call)
      expect(outcome.kind, `${label}: ${describeOutcome(outcome)}`).toBe('rejected')
      expect((outcome as { error: unknown }).error, label).toBeInstanceOf(InvalidLockArgumentError)
      expect(handle.held, label).toBe(true)
    }
    expect(await locks.isLocked('held')).toBe(true)
    await locks.request('in-callback', async (lock) => {
      await expect(lock.extend(-1)).rejects.toBeInstanceOf(InvalidLockArgumentError)
      expect(lock.held).toBe(true)
    })
    await handle.release()
  })

  // tryAcquire's type leaves out steal, timeout, signal and ifAvailable; a JavaScript caller can
  // still pass them. "Take the lock if nobody holds it" must never become a steal. (The manager's
  // logic, the same on every store: checked on one.)
  test.runIf(store.name === 'redis')('tryAcquire(name, { steal: true }) is refused and does not take a held lock', async () => {
    const holder = createLockManager({ store: store.url, prefix, sleep: store.sleep })
    const held = await holder.acquire('steal-target')
    try {
      const outcome = await outcomeOf(() => locks.tryAcquire('steal-target', { steal: true } as never))
      const owners = (await locks.store.holders(locks.keyFor('steal-target'))).map((holder) => holder.owner)
      const holderKeptIt = owners.length === 1 && owners[0]!.startsWith(`${holder.clientId}:`) && !held.signal.aborted
      if (outcome.kind === 'returned' && outcome.value) await (outcome.value as LockHandle).release().catch(() => undefined)
      expect(describeOutcome(outcome)).toMatch(/^rejected InvalidLockArgumentError/)
      expect(holderKeptIt).toBe(true)
    } finally {
      await held.release().catch(() => undefined)
      await holder.close()
    }
  })

  test('withRecordLocks with a bad name after good ones rejects and releases the ones it took', async () => {
    // Sorted, 'null' comes after 'rec-a' and 'rec-b': those two are taken before the bad one fails.
    const outcome = await outcomeOf(() =>
      withRecordLocks(locks, ['rec-b', null as never, 'rec-a'], {}, undefined, async () => expect.unreachable()),
    )
    expect(describeOutcome(outcome)).toMatch(/^rejected InvalidLockArgumentError/)
    expect(await locks.isLocked('rec-a')).toBe(false)
    expect(await locks.isLocked('rec-b')).toBe(false)
  })

  // Runs last for the store: after every case above, the server holds nothing under the prefix
  // but the fencing counters of the locks really taken, and no lock.
  test('afterwards the store itself holds no lock, counter or queue entry for any bad call', async () => {
    const keys = await keysUnder(store.url, prefix)
    // Locks really taken (then released) leave their fencing counter, by design (a database: the lock's row).
    const taken = ['held', 'in-callback', 'steal-target', 'rec-a', 'rec-b']
    const counter = (name: string) =>
      isDatabaseUrl(store.url) ? `${prefix}${name}` : store.name === 'memcached' ? `${prefix}${name}~fence` : `{${prefix}${name}}:f`
    const allowed = taken.map(counter)
    expect(keys.filter((key) => !allowed.includes(key))).toEqual([])
    for (const name of ['n', 'held', 'in-callback', 'rec-a', 'rec-b', '', 'x', 'a'])
      expect(await locks.store.holders(locks.keyFor(name))).toEqual([])
    expect(await locks.query()).toEqual({ held: [], pending: [] })
  })
})
