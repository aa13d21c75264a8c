import { checkBoolean, checkDuration, checkOptions, invalid } from '../../validate.js'
import { quotedTable } from '../sql/table-name.js'

const optionNames = new Set([
  'table',
  'prepare',
  'createTable',
  'listen',
  'queryTimeoutMs',
  'retainIdleMs',
  'sweepIntervalMs',
  'waiterLivenessPolls',
  'closePool',
])

/** Options of `new PostgresStore(pool, options)`. */
export interface PostgresStoreOptions {
  /**
   * The locks table: `name` or `schema.name`. Its LISTEN channel is `<name>_released`.
   * @default 'cachelock_locks'
   */
  table?: string
  /**
   * Create the table (`CREATE TABLE IF NOT EXISTS`) the first time a statement finds it missing.
   * Turn off when migrations create it (the README has the DDL) and the app's role may not run DDL.
   * @default true
   */
  createTable?: boolean
  /**
   * Run the statements as named prepared statements, parsed and planned once per connection
   * (planning is most of an acquire's cost otherwise). A pooler that cannot keep prepared
   * statements (PgBouncer in transaction mode before 1.21) is detected by its error, after which
   * this store sends them unnamed.
   * @default true
   */
  prepare?: boolean
  /**
   * Wake waiters with `LISTEN`/`NOTIFY` on one dedicated connection per store, made with the pool's
   * own settings; or the settings (a `pg` `ClientConfig`) of a direct connection to use instead,
   * for pools behind a transaction pooler (PgBouncer in transaction mode drops a session's
   * LISTEN); or `false` to poll every `sleep` instead.
   * @default true
   */
  listen?: boolean | Record<string, unknown>
  /**
   * Reject a statement that has not answered after this many ms (0: rely on the pool's own
   * limits). A backstop: `pg` waits for a free connection forever by default, and a frozen server
   * never answers. A timed-out statement may still run later; a late grant then expires after its ttl.
   * @default 10000
   */
  queryTimeoutMs?: number
  /**
   * Delete a lock's row once nothing has held or waited for it for this long. The row carries the
   * fencing counter; after it is gone, tokens still grow because they are seeded from the
   * database's clock in µs. Keeps the table small when locks are taken on millions of ids.
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
   * Also end the pool in `close()`. For a pool made for this store only (as `postgresStoreFromUrl`
   * does); leave it off for the app's own pool.
   * @default false
   */
  closePool?: boolean
}

/** Validate `PostgresStore` options (before anything is connected for them). */
export function checkPostgresStoreOptions(options: unknown, known: ReadonlySet<string> = optionNames): PostgresStoreOptions {
  const given = checkOptions(options, 'options', known) as PostgresStoreOptions
  if (given.table !== undefined) quotedTable(given.table, 'options.table', '"')
  if (given.createTable !== undefined) checkBoolean(given.createTable, 'options.createTable')
  if (given.prepare !== undefined) checkBoolean(given.prepare, 'options.prepare')
  if (given.closePool !== undefined) checkBoolean(given.closePool, 'options.closePool')
  if (given.listen !== undefined && typeof given.listen !== 'boolean' && (typeof given.listen !== 'object' || given.listen === null)) {
    throw invalid('options.listen', 'a boolean or pg client settings (an object)', given.listen)
  }
  if (given.queryTimeoutMs !== undefined) checkDuration(given.queryTimeoutMs, 'options.queryTimeoutMs', { zero: true })
  if (given.retainIdleMs !== undefined) checkDuration(given.retainIdleMs, 'options.retainIdleMs', { zero: true })
  if (given.sweepIntervalMs !== undefined) checkDuration(given.sweepIntervalMs, 'options.sweepIntervalMs', { zero: true })
  if (given.waiterLivenessPolls !== undefined) checkDuration(given.waiterLivenessPolls, 'options.waiterLivenessPolls', { max: 1000 })
  return given
}
