import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { MysqlStore } from '../../../src/stores/mysql/mysql-store.js'
import type { MysqlStoreOptions } from '../../../src/stores/mysql/options.js'

/** The server `scripts/services.sh start` runs (see `scripts/services.sh env`). */
export const MYSQL_URL = process.env['CACHELOCK_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3316/cachelock_test'

const pools: mysql.Pool[] = []
const stores: MysqlStore[] = []

/** A pool of the app's own (its own connections, like another app server); ended by `closeAll()`. */
export function appPool(options: mysql.PoolOptions = {}): mysql.Pool {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4, ...options })
  pools.push(pool)
  return pool
}

export function openStore(options: MysqlStoreOptions = {}, pool: ConstructorParameters<typeof MysqlStore>[0] = appPool()): MysqlStore {
  const store = new MysqlStore(pool, options)
  stores.push(store)
  return store
}

export async function closeAll(): Promise<void> {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
}

export function uniqueTable(label = 't'): string {
  return `cachelock_test_${label}_${randomBytes(4).toString('hex')}`
}

export function uniqueKey(label = 'k'): string {
  return `test:mysql:${label}:${randomBytes(6).toString('hex')}`
}
