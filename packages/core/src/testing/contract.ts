import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { LockStore } from '@cachelock/core'
import { request, type ContractContext, type TestApi } from './context.js'
import { exclusiveContract } from './exclusive-contract.js'
import { listContract } from './list-contract.js'
import { managerContract } from './manager-contract.js'
import { sharedContract } from './shared-contract.js'
import { waitersContract } from './waiters-contract.js'

export interface ContractOptions {
  /**
   * False for stores that never lock (`OpenStore`): only the shape of each answer is checked.
   * @default true
   */
  exclusive?: boolean
  /**
   * The store's ttl granularity in ms: expiry tests use ttls of this size and wait about twice
   * as long (see `expiryGraceMs`). memcached counts whole seconds: pass 1000.
   * @default 100
   */
  ttlGranularityMs?: number
  /**
   * How much longer than its ttl the store may keep a lock, in ms: expiry tests wait ttl + this +
   * 50 ms before they expect a lock gone. memcached keeps a lock up to its ttl rounded up to seconds
   * plus two: pass 2500 with a 1000 ms granularity.
   * @default ttlGranularityMs
   */
  expiryGraceMs?: number
  /**
   * The store implements the optional `list()`: run its contract too. A store that has `list()`
   * without opting in (or opts in without it) fails the suite, so the member is never untested.
   * @default false
   */
  list?: boolean
  /**
   * The store implements the optional `waiters()` (other managers' pending requests in `query()`):
   * run its contract too. As with `list`, declaring it and having it must agree.
   * @default false
   */
  waiters?: boolean
  /** Called once after the suite, to close what the factory opened. */
  close?: (store: LockStore) => Promise<void> | void
}

/**
 * The contract every `LockStore` must pass, against its real server. Call it from a test file:
 *
 * ```ts
 * import { describe, it, afterAll } from 'vitest'
 * import { lockStoreContract } from '@cachelock/core/testing'
 * lockStoreContract({ describe, it, afterAll }, 'RedisStore', () => new RedisStore(redis))
 * ```
 *
 * Keys are random per test, so the suite can share a server with other tests.
 */
export function lockStoreContract(api: TestApi, label: string, factory: () => LockStore, options: ContractOptions = {}): void {
  const exclusive = options.exclusive ?? true
  const ttl = Math.max(options.ttlGranularityMs ?? 100, 50)
  let made: LockStore | undefined
  const run = randomBytes(4).toString('hex')
  const context: ContractContext = {
    api,
    store: () => (made ??= factory()),
    key: (name) => `contract:${run}:${name}:${randomBytes(4).toString('hex')}`,
    owner: () => `contract:${randomBytes(16).toString('hex')}`,
    ttl,
    pastExpiry: ttl + Math.max(options.expiryGraceMs ?? ttl, 0) + 50,
    exclusive,
  }
  api.describe(`LockStore contract: ${label}`, () => {
    api.afterAll?.(async () => {
      if (made && options.close) await options.close(made)
    })
    api.it(`implements list() ${options.list ? 'as declared (options.list)' : 'only if options.list says so'}`, async () => {
      assert.equal(typeof context.store().list === 'function', options.list ?? false)
    })
    api.it(`implements waiters() ${options.waiters ? 'as declared (options.waiters)' : 'only if options.waiters says so'}`, async () => {
      assert.equal(typeof context.store().waiters === 'function', options.waiters ?? false)
    })
    if (exclusive) {
      exclusiveContract(context)
      sharedContract(context)
      managerContract(context)
      if (options.list) listContract(context)
      if (options.waiters) waitersContract(context)
    } else {
      openContract(context)
    }
  })
}

function openContract({ api, store, key, owner }: ContractContext): void {
  const { it } = api
  it('grants every request with increasing fencing tokens', async () => {
    const k = key('open')
    const a = await store().acquire(request(k, owner(), 'exclusive', 1000))
    const b = await store().acquire(request(k, owner(), 'exclusive', 1000))
    assert.ok(a.granted && b.granted && b.fencingToken > a.fencingToken)
  })
  it('answers release, extend, steal, forceRelease and holders', async () => {
    const k = key('open-ops')
    assert.equal(typeof (await store().release(k, owner())), 'boolean')
    assert.equal(typeof (await store().extend(k, owner(), 1000)), 'boolean')
    assert.ok((await store().steal({ key: k, owner: owner(), ttlMs: 1000, clientId: 'contract' })).fencingToken > 0)
    assert.equal(typeof (await store().forceRelease(k)), 'boolean')
    assert.ok(Array.isArray(await store().holders(k)))
  })
}
