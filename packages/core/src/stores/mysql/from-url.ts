import { invalid } from '../../validate.js'
import { loadPeer } from '../peer.js'
import type { MysqlPoolLike } from './client.js'
import { MysqlStore } from './mysql-store.js'
import { checkMysqlUrl } from './url.js'
import { checkMysqlStoreOptions, type MysqlStoreOptions } from './options.js'

const fromUrlOptionNames = new Set(['table', 'createTable', 'queryTimeoutMs', 'retainIdleMs', 'sweepIntervalMs', 'poolOptions'])

/** Options of `mysqlStoreFromUrl`: the store's own, plus settings for the pool it makes. */
export interface MysqlStoreFromUrlOptions extends Omit<MysqlStoreOptions, 'closePool'> {
  /**
   * `mysql2` `PoolOptions` merged over the defaults (the URL is its `uri`). Typed loosely so that
   * core needs no mysql2 types.
   * @default { connectionLimit: 5, connectTimeout: 5000, enableKeepAlive: true }
   */
  poolOptions?: Record<string, unknown>
}

const POOL_DEFAULTS = { connectionLimit: 5, connectTimeout: 5000, enableKeepAlive: true }

/**
 * A `MysqlStore` on a new `mysql2` pool for `url` (`mysql://user:pass@host:3306/db`); `close()`
 * ends that pool. mysql2 is an optional peer dependency, loaded here on first use.
 */
export function mysqlStoreFromUrl(url: string | URL, options: MysqlStoreFromUrlOptions = {}): MysqlStore {
  const href = checkMysqlUrl(url)
  const { poolOptions, ...storeOptions } = checkMysqlStoreOptions(options, fromUrlOptionNames) as MysqlStoreFromUrlOptions
  if (poolOptions !== undefined && (typeof poolOptions !== 'object' || poolOptions === null))
    throw invalid('options.poolOptions', 'an object', poolOptions)
  const mysql = loadPeer<{ createPool(config: Record<string, unknown>): MysqlPoolLike }>('mysql2/promise', 'mysql://')
  const pool = mysql.createPool({ ...POOL_DEFAULTS, ...poolOptions, uri: href })
  return new MysqlStore(pool, { ...storeOptions, closePool: true })
}
