/** A query result, as `pg` returns it. */
export interface PgResult<Row> {
  rows: Row[]
  rowCount: number | null
}

/**
 * What `PostgresStore` runs its statements on: a `pg` `Pool` fits as it is (so does a `pg`
 * `Client`, or anything with the same `query`). Nothing here is imported from `pg`.
 */
export interface PgQueryable {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgResult<Row>>
  /** A named (prepared) statement: parsed and planned once per connection. */
  query<Row = Record<string, unknown>>(config: { name: string; text: string; values?: unknown[] }): Promise<PgResult<Row>>
}

/** A `pg` `Pool` as `PostgresStore` sees it: its client class and options make the LISTEN connection. */
export interface PgPoolLike extends PgQueryable {
  /** The pool's client class (`pg-pool` exposes it) and the options it connects with. */
  readonly Client?: new (config?: unknown) => PgListenClient
  readonly options?: unknown
  /** Ends the pool. Called by `close()` only when the store made the pool (from a URL). */
  end?(): Promise<void>
}

/** A notification received on a LISTEN connection. */
export interface PgNotification {
  channel: string
  payload?: string | undefined
}

/** The dedicated connection that LISTENs for releases (a `pg` `Client`). */
export interface PgListenClient {
  connect(): Promise<unknown>
  query(text: string): Promise<unknown>
  on(event: 'notification', listener: (message: PgNotification) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'end', listener: () => void): unknown
  end(): Promise<void>
}
