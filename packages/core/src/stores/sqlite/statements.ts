/**
 * The statements `SqliteStore` runs, built once per table. SQLite runs in the app's process, so an
 * operation is a short write transaction (`BEGIN IMMEDIATE` … `COMMIT`) of a read and a write of one
 * row, with the decision in between made in JavaScript: no network round trip to save, and the
 * write lock is taken up front (`IMMEDIATE`), so two processes never both read the lock free, and
 * a transaction never has to upgrade a read lock, the step where SQLite answers `SQLITE_BUSY`
 * without waiting.
 *
 * The row of a lock: `owner`/`expires_at` are the exclusive holder and its expiry (ms, by the
 * `now` statement: the database's clock, which for SQLite is the host's); `shared` is a JSON object
 * of shared holders' expiries by owner; `queue` a JSON array of `[clientId, since, until]`: the
 * managers waiting in turn, oldest first; `waiters` a JSON object of `[mode, until]` by clientId:
 * the managers waiting for the lock at all, for `query()` (see `LockStore.waiters`). `fence` is the last fencing token; the row outlives the lock so the
 * counter keeps growing, and a new token is `max(fence + 1, time in µs)`.
 */
export interface SqliteStatements {
  ddl: string
  now: string
  begin: string
  commit: string
  rollback: string
  read: string
  write: string
  sweep: string
  /** Adds the `waiters` column to a table made before it; fails on a table that has it. */
  upgrade: string
}

export function sqliteStatements(table: string): SqliteStatements {
  return {
    ddl: `CREATE TABLE IF NOT EXISTS ${table} (
  key BLOB PRIMARY KEY,
  owner TEXT,
  expires_at INTEGER NOT NULL,
  shared TEXT NOT NULL DEFAULT '{}',
  queue TEXT NOT NULL DEFAULT '[]',
  fence INTEGER NOT NULL,
  waiters TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID`,
    now: `SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER) AS now`,
    begin: 'BEGIN IMMEDIATE',
    commit: 'COMMIT',
    rollback: 'ROLLBACK',
    read: `SELECT owner, expires_at, shared, queue, fence, waiters FROM ${table} WHERE key = ?`,
    write: `INSERT INTO ${table} (key, owner, expires_at, shared, queue, fence, waiters) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, shared = excluded.shared,
  queue = excluded.queue, fence = excluded.fence, waiters = excluded.waiters`,
    upgrade: `ALTER TABLE ${table} ADD COLUMN waiters TEXT NOT NULL DEFAULT '{}'`,
    sweep: `DELETE FROM ${table} WHERE key IN (SELECT key FROM ${table} WHERE expires_at < ? AND queue = '[]' LIMIT ?)`,
  }
}
