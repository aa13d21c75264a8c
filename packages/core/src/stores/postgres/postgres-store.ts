import { createHash } from 'node:crypto'
import { safeKey } from '../../keys.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, LockStore, StealRequest, Unsubscribe, Waiter } from '../../store.js'
import { invalid } from '../../validate.js'
import { checkPostgresStoreOptions, type PostgresStoreOptions } from './options.js'
import { withDeadline } from '../sql/deadline.js'
import { liveHolders, wholeMs } from '../sql/holders.js'
import { baseName, DEFAULT_TABLE, quotedTable } from '../sql/table-name.js'
import type { PgListenClient, PgPoolLike, PgQueryable, PgResult } from './client.js'
import { postgresStatements, type PostgresStatements } from './statements.js'
import { INTEREST_TTL_MS, PgWakeUps } from './wake-ups.js'

/** Keys PostgreSQL `text` can hold and a btree can index: no NUL, at most 1024 bytes, else hashed. */
const KEY_RULES = { maxBytes: 1024, forbidden: /\u0000/ }
/** A named statement the connection does not have, or already has: a pooler switched connections under it. */
const PREPARED_LOST = new Set(['26000', '42P05'])
/** The table is missing, or a column added since it was created. */
const MISSING = new Set(['42P01', '42703'])
const SWEEP_BATCH = 1000

/**
 * Locks in a PostgreSQL table, over the app's own `pg` `Pool` (any `PgQueryable`).
 *
 * Every operation is one statement (one round trip), atomic in the database, owner-checked where
 * it changes a hold; expiry is decided by the database's `clock_timestamp()`, so app servers with
 * skewed clocks agree. Works through any pooler, since no statement depends on the session. Waiters
 * are woken by `LISTEN`/`NOTIFY` (see `listen`). See `statements.ts` for the statements and the
 * table, `README.md` for the DDL to put in a migration.
 *
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const locks = createLockManager({ store: new PostgresStore(pool) })
 */
export class PostgresStore implements LockStore {
  readonly #pool: PgQueryable & Partial<PgPoolLike>
  readonly #sql: PostgresStatements
  readonly #createTable: boolean
  readonly #timeoutMs: number
  readonly #closePool: boolean
  readonly #wakeUps: PgWakeUps | undefined
  readonly #retainIdleMs: number
  readonly #livenessPolls: number
  readonly #names: Map<string, string> | undefined
  #prepare: boolean
  #sweeper: NodeJS.Timeout | undefined
  #creating: Promise<void> | undefined
  #closed = false

  /** Wake-ups on release, steal and force release; absent with `listen: false` (waiters poll). */
  readonly onRelease?: (key: string, wake: () => void) => Unsubscribe

  constructor(pool: PgQueryable, options: PostgresStoreOptions = {}) {
    checkPostgresStoreOptions(options)
    if (typeof pool !== 'object' || pool === null || typeof (pool as { query?: unknown }).query !== 'function') {
      throw invalid('pool', 'a pg Pool (or anything with its query method)', pool)
    }
    this.#pool = pool
    const table = quotedTable(options.table ?? DEFAULT_TABLE, 'options.table', '"')
    const channel = `${baseName(options.table ?? DEFAULT_TABLE)}_released`
    this.#sql = postgresStatements(table, channel)
    this.#createTable = options.createTable ?? true
    this.#timeoutMs = options.queryTimeoutMs ?? 10_000
    this.#closePool = options.closePool ?? false
    this.#retainIdleMs = options.retainIdleMs ?? 3_600_000
    this.#livenessPolls = options.waiterLivenessPolls ?? 2
    this.#prepare = options.prepare ?? true
    // One name per statement text (the table is part of it), so stores on other tables never collide.
    this.#names = new Map(
      Object.values(this.#sql).map((text: string) => [text, `cachelock_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`]),
    )
    const listen = options.listen ?? true
    const connect = listenConnector(this.#pool, listen)
    if (connect) {
      const wakeUps = new PgWakeUps(connect, channel, 2000, (key) => this.#run('listen', this.#sql.listen, [key, INTEREST_TTL_MS]))
      this.#wakeUps = wakeUps
      this.onRelease = (key, wake) => wakeUps.listen(storedKey(key), wake)
    }
    const sweepEvery = options.sweepIntervalMs ?? 300_000
    if (sweepEvery > 0) {
      this.#sweeper = setInterval(() => void this.sweep().catch(() => undefined), sweepEvery)
      // Housekeeping: never keeps a process alive.
      this.#sweeper.unref()
    }
  }

  /** The pool this store runs on. */
  get pool(): PgQueryable {
    return this.#pool
  }

  /** Whether the LISTEN connection is open right now. */
  get listening(): boolean {
    return this.#wakeUps?.connected ?? false
  }

  /**
   * One statement when the lock is free and nobody waits, else two. Granted when the lock is free
   * for `mode` and no other manager has waited longer; a refused waiting manager takes (or keeps) its turn in the row's queue. A refusal's
   * `retryInMs` is when the holders' ttl runs out or the waiting manager's turn lapses, by the
   * database's clock.
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    // Uncontended: one small statement. Otherwise (held, shared holders, waiters) the full one.
    const free = await this.#run<{ fence: string }>('acquire', this.#sql.acquireFree, [
      storedKey(request.key),
      request.owner,
      wholeMs(request.ttlMs),
      request.mode === 'shared',
    ])
    if (free.rows[0]) return { granted: true, fencingToken: Number(free.rows[0].fence) }
    const { rows } = await this.#run<AcquireRow>('acquire', this.#sql.acquire, [
      storedKey(request.key),
      request.owner,
      wholeMs(request.ttlMs),
      request.mode === 'shared',
      request.clientId,
      request.waiting,
      wholeMs(this.#livenessPolls * request.pollMs + 100),
      request.once === true,
    ])
    const row = rows[0]
    const granted = row !== undefined && (request.mode === 'shared' ? row.shares : row.owner === request.owner)
    if (granted) return { granted: true, fencingToken: Number(row.fence) }
    const waits = [row?.held_for, row?.turn_for].map(Number).filter((ms) => ms > 0)
    return waits.length > 0 ? { granted: false, retryInMs: Math.min(...waits) } : { granted: false }
  }

  /** Owner-checked release (one statement); NOTIFYs when the lock is free and someone waits. */
  async release(key: string, owner: string): Promise<boolean> {
    const { rows } = await this.#run('release', this.#sql.release, [storedKey(key), owner])
    return rows.length > 0
  }

  /** Owner-checked extend (one statement). */
  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.#run('extend', this.#sql.extend, [storedKey(key), owner, wholeMs(ttlMs)])
    return rowCount === 1
  }

  /** Drops every holder and takes the lock exclusively (one statement), with a new fencing token. */
  async steal(request: StealRequest): Promise<Granted> {
    const { rows } = await this.#run<{ fence: string }>('steal', this.#sql.steal, [
      storedKey(request.key),
      request.owner,
      wholeMs(request.ttlMs),
      request.clientId,
    ])
    return { fencingToken: Number(rows[0]?.fence) }
  }

  /** Drops every holder (one statement); resolves whether a live one existed. */
  async forceRelease(key: string): Promise<boolean> {
    const { rows } = await this.#run('forceRelease', this.#sql.forceRelease, [storedKey(key)])
    return rows.length > 0
  }

  /** The live holders with their remaining ttl by the database's clock (one statement). */
  async holders(key: string): Promise<Holder[]> {
    const { rows } = await this.#run<{
      now: string
      owner: string | null
      expires_at: string | null
      shared: Record<string, number> | null
    }>('holders', this.#sql.holders, [storedKey(key)])
    const row = rows[0]
    if (!row || row.expires_at === null) return []
    return liveHolders(
      Number(row.now),
      row.owner,
      Number(row.expires_at),
      Object.entries(row.shared ?? {}).map(([o, e]) => [o, Number(e)]),
    )
  }

  /** The managers waiting for `key`: refused, not granted since, still asking (one statement). */
  async waiters(key: string): Promise<Waiter[]> {
    const { rows } = await this.#run<{ now: string; waiters: Record<string, [string, number]> | null }>('waiters', this.#sql.waiters, [
      storedKey(key),
    ])
    const now = Number(rows[0]?.now)
    return Object.entries(rows[0]?.waiters ?? {})
      .filter(([, [, until]]) => Number(until) > now)
      .map(([clientId, [mode]]) => ({ clientId, mode: mode === 's' ? 'shared' : 'exclusive' }))
  }

  /** Delete rows idle for longer than `retainIdleMs` (at most 1000); resolves how many. Runs by itself every `sweepIntervalMs`. */
  async sweep(): Promise<number> {
    const { rowCount } = await this.#run('sweep', this.#sql.sweep, [this.#retainIdleMs, SWEEP_BATCH])
    return rowCount ?? 0
  }

  /**
   * The `CREATE TABLE` statement of the locks table named `table`, for migrations (no connection
   * needed): the statement the store runs itself on first use.
   * @example await queryRunner.query(PostgresStore.tableDdl()) // in a TypeORM migration
   */
  static tableDdl(table: string = DEFAULT_TABLE): string {
    return postgresStatements(quotedTable(table, 'table', '"'), `${baseName(table)}_released`).ddl
  }

  /** The table's DDL, for migrations (the same statement the store runs when it creates the table). */
  get ddl(): string {
    return this.#sql.ddl
  }

  /** Close the LISTEN connection and stop sweeping; end the pool when `closePool` is set. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
    this.#wakeUps?.close()
    // Idempotent: pg throws when a pool is ended twice.
    if (this.#closePool && !this.#closed) {
      this.#closed = true
      await this.#pool.end?.()
    }
  }

  async #run<Row = Record<string, unknown>>(operation: string, text: string, values: unknown[]): Promise<PgResult<Row>> {
    try {
      return await this.#query<Row>(operation, text, values)
    } catch (error) {
      if (!this.#createTable || !MISSING.has(String((error as { code?: unknown }).code))) throw error
      // First use: create the table (or add what a table made by an older version lacks), then
      // run the statement again (once).
      await (this.#creating ??= this.#create())
      return this.#query<Row>(operation, text, values)
    }
  }

  async #query<Row>(operation: string, text: string, values: unknown[]): Promise<PgResult<Row>> {
    const name = this.#prepare ? this.#names?.get(text) : undefined
    if (name === undefined) return withDeadline(this.#pool.query<Row>(text, values), this.#timeoutMs, 'PostgreSQL', operation)
    try {
      return await withDeadline(this.#pool.query<Row>({ name, text, values }), this.#timeoutMs, 'PostgreSQL', operation)
    } catch (error) {
      if (!PREPARED_LOST.has(String((error as { code?: unknown }).code))) throw error
      // A transaction pooler hands each statement to any server connection: stop naming them.
      this.#prepare = false
      return withDeadline(this.#pool.query<Row>(text, values), this.#timeoutMs, 'PostgreSQL', operation)
    }
  }

  async #create(): Promise<void> {
    try {
      await withDeadline(this.#pool.query(this.#sql.ddl), this.#timeoutMs, 'PostgreSQL', 'create table')
      await withDeadline(this.#pool.query(this.#sql.upgrade), this.#timeoutMs, 'PostgreSQL', 'upgrade table')
    } catch (error) {
      // Two processes creating it at once: the loser's IF NOT EXISTS can still fail on the catalog's
      // unique index (23505), on the table (42P07) or on its row type (42710, "type … already exists").
      const code = (error as { code?: unknown }).code
      if (code !== '23505' && code !== '42P07' && code !== '42710') throw error
    } finally {
      this.#creating = undefined
    }
  }
}

/** What the acquire statement returns. */
interface AcquireRow {
  owner: string | null
  shares: boolean
  fence: string | null
  held_for: string | null
  turn_for: string | null
}

/** The store key as the table holds it. */
function storedKey(key: string): string {
  return safeKey(key, KEY_RULES)
}

/** How to open the LISTEN connection, or undefined when wake-ups are off or impossible. */
function listenConnector(
  pool: PgQueryable & Partial<PgPoolLike>,
  listen: boolean | Record<string, unknown>,
): (() => PgListenClient) | undefined {
  if (listen === false) return undefined
  const Client = pool.Client
  // A plain Client or a custom queryable has no client class: poll.
  if (typeof Client !== 'function') return undefined
  const config = listen === true ? pool.options : listen
  return () => new Client(config)
}
