import { checkBoolean, checkDuration, checkOptions } from '../../validate.js'
import { quotedTable } from '../sql/table-name.js'

const optionNames = new Set(['table', 'createTable', 'wal', 'retainIdleMs', 'sweepIntervalMs', 'waiterLivenessPolls', 'closeDatabase'])

/** Options of `new SqliteStore(database, options)`. */
export interface SqliteStoreOptions {
  /**
   * The locks table (`name`, or `schema.name` for an attached database).
   * @default 'cachelock_locks'
   */
  table?: string
  /**
   * Create the table (`CREATE TABLE IF NOT EXISTS`) on first use. Turn off when migrations create it.
   * @default true
   */
  createTable?: boolean
  /**
   * Switch the database to WAL journaling on first use (`PRAGMA journal_mode = WAL`, which stays set
   * in the file): readers never block the writer, and several processes can lock through one file.
   * @default true
   */
  wal?: boolean
  /**
   * Delete a lock's row once nothing has held or waited for it for this long; tokens still grow
   * after it is gone (they are seeded from the clock in µs).
   * @default 3600000 (one hour)
   */
  retainIdleMs?: number
  /**
   * How often this store deletes idle rows (up to 1000 per sweep); 0 turns sweeping off. Unref'd.
   * @default 300000 (five minutes)
   */
  sweepIntervalMs?: number
  /**
   * A waiting manager that stops asking loses its turn, and its place among the lock's `waiters`
   * (what other managers' `query()` lists), after this many of its poll intervals
   * (`AcquireRequest.pollMs`), plus 100 ms.
   * @default 2
   */
  waiterLivenessPolls?: number
  /**
   * Also close the database in `close()`. For a database opened for this store only (as
   * `sqliteStoreFromUrl` does); leave it off for the app's own.
   * @default false
   */
  closeDatabase?: boolean
}

export function checkSqliteStoreOptions(options: unknown, known: ReadonlySet<string> = optionNames): SqliteStoreOptions {
  const given = checkOptions(options, 'options', known) as SqliteStoreOptions
  if (given.table !== undefined) quotedTable(given.table, 'options.table', '"')
  for (const name of ['createTable', 'wal', 'closeDatabase'] as const) {
    if (given[name] !== undefined) checkBoolean(given[name], `options.${name}`)
  }
  if (given.retainIdleMs !== undefined) checkDuration(given.retainIdleMs, 'options.retainIdleMs', { zero: true })
  if (given.sweepIntervalMs !== undefined) checkDuration(given.sweepIntervalMs, 'options.sweepIntervalMs', { zero: true })
  if (given.waiterLivenessPolls !== undefined) checkDuration(given.waiterLivenessPolls, 'options.waiterLivenessPolls', { max: 1000 })
  return given
}
