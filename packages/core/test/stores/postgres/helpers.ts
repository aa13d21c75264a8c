import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PostgresStore } from '../../../src/stores/postgres/postgres-store.js'
import type { PostgresStoreOptions } from '../../../src/stores/postgres/options.js'
import type { AcquireRequest } from '../../../src/store.js'

/** The server `scripts/services.sh start` runs (see `scripts/services.sh env`). */
export const PG_URL = process.env['CACHELOCK_TEST_PG_URL'] ?? 'postgresql://postgres@127.0.0.1:5439/cachelock_test'

const pools: pg.Pool[] = []
const stores: PostgresStore[] = []

/** A pool of the app's own (its own connections, like another app server); ended by `closeAll()`. */
export function appPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4, ...config })
  pool.on('error', () => undefined)
  pools.push(pool)
  return pool
}

/** A store on a fresh pool; both closed by `closeAll()`. */
export function openStore(options: PostgresStoreOptions = {}, pool = appPool()): PostgresStore {
  const store = new PostgresStore(pool, options)
  stores.push(store)
  return store
}

export async function closeAll(): Promise<void> {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
}

/** A table name no other test uses. */
export function uniqueTable(label = 't'): string {
  return `cachelock_test_${label}_${randomBytes(4).toString('hex')}`
}

export function uniqueKey(label = 'k'): string {
  return `test:pg:${label}:${randomBytes(6).toString('hex')}`
}

export function owner(clientId = 'c0'): string {
  return `${clientId}:${randomBytes(16).toString('hex')}`
}

export function request(key: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest {
  return { key, owner: owner(), mode: 'exclusive', ttlMs: 30_000, clientId: 'c0', waiting: false, pollMs: 100, ...overrides }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
