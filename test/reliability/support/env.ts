import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The servers `scripts/services.sh start` runs, as `scripts/services.sh env` names them. The
 * defaults match the script's defaults, so a bare `pnpm vitest run --dir test/reliability` works
 * when the services are up.
 */
export const REDIS_URL = process.env['CACHELOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391'
export const CLUSTER_URL = process.env['CACHELOCK_TEST_REDIS_CLUSTER_URL'] ?? 'redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103'
export const MEMCACHED_URL = process.env['CACHELOCK_TEST_MEMCACHED_URL'] ?? 'memcached://127.0.0.1:11311,127.0.0.1:11312'
export const MEMCACHED_URL_ONE = process.env['CACHELOCK_TEST_MEMCACHED_URL_ONE'] ?? 'memcached://127.0.0.1:11311'
export const PG_URL = process.env['CACHELOCK_TEST_PG_URL'] ?? 'postgresql://postgres@127.0.0.1:5439/cachelock_test'
export const MYSQL_URL = process.env['CACHELOCK_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3316/cachelock_test'
/** One SQLite file that every worker process of this test run opens: several processes on one host. */
export const SQLITE_URL = `sqlite://${join(tmpdir(), `cachelock-reliability-${randomBytes(4).toString('hex')}.db`)}`

/** A store the multi-process tests run on: how processes reach it, and how long a waiter sleeps between polls. */
export interface StoreTarget {
  /** Label in test names and reports. */
  name: 'redis' | 'cluster' | 'memcached' | 'postgres' | 'mariadb' | 'sqlite'
  url: string
  /**
   * The manager's `sleep`. memcached has no release notifications, so waiters poll: a shorter
   * sleep keeps the contended tests fast there. Redis wakes waiters by pub/sub and keeps the default.
   */
  sleep: number
  /**
   * The longest a lock can outlive its last renewal in this store, beyond its ttl, in ms. memcached
   * counts whole seconds and the store adds two (see `stores/memcached/expiry.ts`): up to ~3 s.
   */
  expiryGraceMs: number
}

/** The cache stores. */
export const CACHE_STORES: readonly StoreTarget[] = [
  { name: 'redis', url: REDIS_URL, sleep: 100, expiryGraceMs: 0 },
  { name: 'cluster', url: CLUSTER_URL, sleep: 100, expiryGraceMs: 0 },
  { name: 'memcached', url: MEMCACHED_URL, sleep: 25, expiryGraceMs: 3000 },
]

/**
 * The database stores. PostgreSQL wakes waiters by NOTIFY and keeps the default sleep; MariaDB and
 * SQLite have no notifications, so waiters poll, as on memcached.
 */
export const DATABASE_STORES: readonly StoreTarget[] = [
  { name: 'postgres', url: PG_URL, sleep: 100, expiryGraceMs: 0 },
  { name: 'mariadb', url: MYSQL_URL, sleep: 25, expiryGraceMs: 0 },
  { name: 'sqlite', url: SQLITE_URL, sleep: 25, expiryGraceMs: 0 },
]

export const STORES: readonly StoreTarget[] = [...CACHE_STORES, ...DATABASE_STORES]

/** A key prefix no other run or test uses, so checks in the store see only this test's keys. */
export function uniquePrefix(label: string): string {
  return `rel:${label}:${randomBytes(4).toString('hex')}:`
}

/** The port of a one-server URL (`redis://127.0.0.1:6391` → 6391). */
export function portOf(url: string): number {
  const port = Number(new URL(url).port)
  if (!port) throw new Error(`no port in ${url}`)
  return port
}
