import { invalid } from '../../validate.js'
import { loadPeer } from '../peer.js'
import type { PgPoolLike } from './client.js'
import { PostgresStore } from './postgres-store.js'
import { checkPostgresUrl } from './url.js'
import { checkPostgresStoreOptions, type PostgresStoreOptions } from './options.js'

const fromUrlOptionNames = new Set(['table', 'createTable', 'listen', 'queryTimeoutMs', 'retainIdleMs', 'sweepIntervalMs', 'poolOptions'])

/** Options of `postgresStoreFromUrl`: the store's own, plus settings for the pool it makes. */
export interface PostgresStoreFromUrlOptions extends Omit<PostgresStoreOptions, 'closePool'> {
  /**
   * `pg` `PoolConfig` merged over the defaults (the URL is its `connectionString`). Typed loosely
   * so that core needs no `pg` types.
   * @default { max: 5, connectionTimeoutMillis: 5000, idleTimeoutMillis: 10000 }
   */
  poolOptions?: Record<string, unknown>
}

/**
 * A short connection timeout so calls fail within seconds while the database is unreachable (pg's
 * default 0 waits for a connection forever); a small pool, since lock statements are short.
 */
const POOL_DEFAULTS = { max: 5, connectionTimeoutMillis: 5000, idleTimeoutMillis: 10_000 }

/**
 * A `PostgresStore` on a new `pg` `Pool` for `url` (`postgres://` or `postgresql://`, everything
 * `pg`'s `connectionString` accepts); `close()` ends that pool.
 *
 * `pg` is an optional peer dependency, loaded here when the first PostgreSQL store is made.
 */
export function postgresStoreFromUrl(url: string | URL, options: PostgresStoreFromUrlOptions = {}): PostgresStore {
  const href = checkPostgresUrl(url)
  // Everything is checked before a connection is opened: a refused call must leave none behind.
  const { poolOptions, ...storeOptions } = checkPostgresStoreOptions(options, fromUrlOptionNames) as PostgresStoreFromUrlOptions
  if (poolOptions !== undefined && (typeof poolOptions !== 'object' || poolOptions === null))
    throw invalid('options.poolOptions', 'an object', poolOptions)
  const pg = loadPeer<{
    Pool: new (config: Record<string, unknown>) => PgPoolLike & { on(event: 'error', listener: () => void): unknown }
  }>('pg', 'postgres://')
  const pool = new pg.Pool({ ...POOL_DEFAULTS, ...poolOptions, connectionString: href })
  // An idle connection the server closed (a restart) is reported here; without a listener, Node
  // would throw it. The next statement gets a fresh connection.
  pool.on('error', () => undefined)
  return new PostgresStore(pool, { ...storeOptions, closePool: true })
}
