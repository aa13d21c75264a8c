/** A prepared statement, as `better-sqlite3` makes them. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): unknown
}

/**
 * What `SqliteStore` runs on: a `better-sqlite3` `Database` fits as it is. Nothing here is imported
 * from better-sqlite3.
 */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  exec(sql: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  /** True while a transaction is open on this connection. */
  readonly inTransaction: boolean
  readonly open: boolean
  /** Closes the database. Called by `close()` only when the store opened it (from a URL). */
  close(): unknown
}
