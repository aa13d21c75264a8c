import { checkDuration } from '../../validate.js'
import { loadPeer } from '../peer.js'
import type { SqliteDatabase } from './client.js'
import { SqliteStore } from './sqlite-store.js'
import { sqliteUrlPath } from './url.js'
import { checkSqliteStoreOptions, type SqliteStoreOptions } from './options.js'

const fromUrlOptionNames = new Set([
  'table',
  'createTable',
  'wal',
  'retainIdleMs',
  'sweepIntervalMs',
  'waiterLivenessPolls',
  'busyTimeoutMs',
])

/** Options of `sqliteStoreFromUrl`: the store's own, plus the busy timeout of the connection it opens. */
export interface SqliteStoreFromUrlOptions extends Omit<SqliteStoreOptions, 'closeDatabase'> {
  /**
   * How long an operation waits while another process writes to the file, in ms, before failing
   * with `SQLITE_BUSY` (better-sqlite3's `timeout`). Lock transactions last microseconds, so a
   * wait this long means a process holds the file's write lock for something else.
   * @default 5000
   */
  busyTimeoutMs?: number
}

/**
 * A `SqliteStore` on a new `better-sqlite3` connection to the file in `url`
 * (`sqlite:///var/lib/app/locks.db`: three slashes, then the absolute path; percent-escapes
 * decoded). The file is created if missing; `close()` closes the connection. better-sqlite3 is an
 * optional peer dependency, loaded here on first use.
 */
export function sqliteStoreFromUrl(url: string | URL, options: SqliteStoreFromUrlOptions = {}): SqliteStore {
  const path = sqliteUrlPath(url)
  const { busyTimeoutMs, ...storeOptions } = checkSqliteStoreOptions(options, fromUrlOptionNames) as SqliteStoreFromUrlOptions
  if (busyTimeoutMs !== undefined) checkDuration(busyTimeoutMs, 'options.busyTimeoutMs', { zero: true })
  const Database = loadPeer<new (path: string, options: { timeout: number }) => SqliteDatabase>('better-sqlite3', 'sqlite://')
  const database = new Database(path, { timeout: busyTimeoutMs ?? 5000 })
  // A dedicated lock file: durable enough with WAL (a crash loses at most the last commits, which
  // only lengthens nothing and frees nothing early), much faster than the default FULL.
  if (storeOptions.wal !== false) database.pragma('synchronous = NORMAL')
  return new SqliteStore(database, { ...storeOptions, closeDatabase: true })
}
