/**
 * What `MysqlStore` runs its statements on: a `mysql2/promise` pool (or connection) fits as it is;
 * a callback-style `mysql2` pool is used through its `.promise()`. Nothing here is imported from
 * mysql2.
 */
export interface MysqlQueryable {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>
}

/** A `mysql2` pool as `MysqlStore` may receive it. */
export interface MysqlPoolLike {
  query(...args: never[]): unknown
  /** A callback-style pool's promise wrapper. */
  promise?(): MysqlQueryable
  /** Ends the pool. Called by `close()` only when the store made the pool (from a URL). */
  end?(): Promise<void> | void
}

/** What an `UPDATE`/`DELETE` answers. */
export interface MysqlResultHeader {
  affectedRows: number
  /** The server's note on an UPDATE: `Rows matched: 1  Changed: 0  Warnings: 0`. */
  info?: string
}
