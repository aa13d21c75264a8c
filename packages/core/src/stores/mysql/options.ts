import { checkBoolean, checkDuration, checkOptions } from '../../validate.js'
import { quotedTable } from '../sql/table-name.js'

const optionNames = new Set([
  'table',
  'createTable',
  'queryTimeoutMs',
  'retainIdleMs',
  'sweepIntervalMs',
  'waiterLivenessPolls',
  'closePool',
])

/** Options of `new MysqlStore(pool, options)`. */
export interface MysqlStoreOptions {
  /**
   * The locks table: `name` or `database.name`.
   * @default 'cachelock_locks'
   */
  table?: string
  /**
   * Create the table (`CREATE TABLE IF NOT EXISTS`) the first time a statement finds it missing.
   * Turn off when migrations create it (the README has the DDL).
   * @default true
   */
  createTable?: boolean
  /**
   * Reject a statement that has not answered after this many ms (0: rely on the pool's own
   * limits). A backstop for a server that stopped answering without closing its sockets. A
   * timed-out statement may still run later; a late grant then expires after its ttl.
   * @default 10000
   */
  queryTimeoutMs?: number
  /**
   * Delete a lock's row once nothing has held it for this long. The row carries the fencing
   * counter; after it is gone, tokens still grow because they are seeded from the database's clock in µs.
   * @default 3600000 (one hour)
   */
  retainIdleMs?: number
  /**
   * How often this store deletes idle rows (up to 1000 per sweep); 0 turns sweeping off. Unref'd.
   * @default 300000 (five minutes)
   */
  sweepIntervalMs?: number
  /**
   * A waiting manager that stops asking loses its turn in the lock's queue, and its place among the
   * lock's `waiters` (what other managers' `query()` lists), after this many of its poll intervals
   * (`AcquireRequest.pollMs`), plus 100 ms.
   * @default 2
   */
  waiterLivenessPolls?: number
  /**
   * Also end the pool in `close()`. For a pool made for this store only (as `mysqlStoreFromUrl`
   * does); leave it off for the app's own pool.
   * @default false
   */
  closePool?: boolean
}

/** Validate `MysqlStore` options (before anything is connected for them). */
export function checkMysqlStoreOptions(options: unknown, known: ReadonlySet<string> = optionNames): MysqlStoreOptions {
  const given = checkOptions(options, 'options', known) as MysqlStoreOptions
  if (given.table !== undefined) quotedTable(given.table, 'options.table', '`')
  if (given.createTable !== undefined) checkBoolean(given.createTable, 'options.createTable')
  if (given.closePool !== undefined) checkBoolean(given.closePool, 'options.closePool')
  if (given.queryTimeoutMs !== undefined) checkDuration(given.queryTimeoutMs, 'options.queryTimeoutMs', { zero: true })
  if (given.retainIdleMs !== undefined) checkDuration(given.retainIdleMs, 'options.retainIdleMs', { zero: true })
  if (given.sweepIntervalMs !== undefined) checkDuration(given.sweepIntervalMs, 'options.sweepIntervalMs', { zero: true })
  if (given.waiterLivenessPolls !== undefined) checkDuration(given.waiterLivenessPolls, 'options.waiterLivenessPolls', { max: 1000 })
  return given
}
