import assert from 'node:assert/strict'
import type { LockStore } from '@cachelock/core'

// What the contract's sections share; apart from contract.ts, which runs them, so no section imports it back.

/** The test functions of your runner (vitest, jest, `node:test` all fit). */
export interface TestApi {
  describe: (name: string, body: () => void) => void
  it: (name: string, body: () => Promise<void>, timeoutMs?: number) => void
  afterAll?: (body: () => Promise<void> | void) => void
}

/** Everything a contract section needs. */
export interface ContractContext {
  api: TestApi
  store: () => LockStore
  key: (label: string) => string
  owner: () => string
  ttl: number
  /** How long after a grant of `ttl` the lock is surely gone: ttl + the store's expiry grace + 50 ms. */
  pastExpiry: number
  exclusive: boolean
}

export function request(key: string, owner: string, mode: 'exclusive' | 'shared', ttlMs: number) {
  return { key, owner, mode, ttlMs, clientId: 'contract', waiting: false, pollMs: 100 }
}

export async function grant(
  store: LockStore,
  key: string,
  owner: string,
  ttlMs: number,
  mode: 'exclusive' | 'shared' = 'exclusive',
): Promise<number> {
  const result = await store.acquire(request(key, owner, mode, ttlMs))
  assert.ok(result.granted, `expected ${mode} grant of ${key}`)
  return result.fencingToken
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await sleep(5)
  }
}
