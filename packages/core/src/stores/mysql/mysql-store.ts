import { safeKey } from '../../keys.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, LockStore, StealRequest, Waiter } from '../../store.js'
import { invalid } from '../../validate.js'
import { checkMysqlStoreOptions, type MysqlStoreOptions } from './options.js'
import { withDeadline } from '../sql/deadline.js'
import { liveHolders, wholeMs } from '../sql/holders.js'
import { DEFAULT_TABLE, quotedTable } from '../sql/table-name.js'
import type { MysqlPoolLike, MysqlQueryable, MysqlResultHeader } from './client.js'
import { mysqlStatements, type MysqlStatements } from './statements.js'

/** Keys an InnoDB primary key holds: at most 512 bytes, else a readable prefix and a hash. */
const KEY_RULES = { maxBytes: 512, forbidden: /(?!)/ }
const SWEEP_BATCH = 1000
const DEADLOCK_ATTEMPTS = 3
/** The table is missing, or a column added since it was created. */
const MISSING = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR'])

interface LockRow {
  fence?: number | string
  owner: Buffer | string | null
  shared: string | [string, number][]
  expires_at?: number | string
  remaining?: number | string
  turn_for?: number | string | null
  now?: number | string
}

/**
 * Locks in a MariaDB table, over the app's own `mysql2` pool.
 *
 * Every operation is one statement (one round trip), atomic in InnoDB, owner-checked where it
 * changes a hold; expiry is decided by the database's clock (`UTC_TIMESTAMP(6)`). There are no
 * notifications in MySQL or MariaDB: waiters poll every `sleep`. See `statements.ts` for the
 * statements and the table.
 *
 * Needs MariaDB 10.6 or later (`INSERT … RETURNING`, `JSON_TABLE`). MySQL 8 has `JSON_TABLE` but no
 * `RETURNING`; on MySQL the first acquire rejects, saying so.
 *
 * @example
 * const pool = mysql.createPool(process.env.DATABASE_URL)
 * const locks = createLockManager({ store: new MysqlStore(pool) })
 */
export class MysqlStore implements LockStore {
  readonly #pool: MysqlQueryable
  #owned: MysqlPoolLike | undefined
  readonly #sql: MysqlStatements
  readonly #createTable: boolean
  readonly #timeoutMs: number
  readonly #retainIdleMs: number
  readonly #livenessPolls: number
  #sweeper: NodeJS.Timeout | undefined
  #creating: Promise<void> | undefined

  constructor(pool: MysqlPoolLike | MysqlQueryable, options: MysqlStoreOptions = {}) {
    checkMysqlStoreOptions(options)
    if (typeof pool !== 'object' || pool === null || typeof (pool as { query?: unknown }).query !== 'function') {
      throw invalid('pool', 'a mysql2 pool (or anything with its query method)', pool)
    }
    const callbackPool = pool as MysqlPoolLike
    // A callback-style pool's query takes a callback; its promise wrapper is the same pool.
    this.#pool = typeof callbackPool.promise === 'function' ? callbackPool.promise() : (pool as MysqlQueryable)
    this.#owned = options.closePool ? callbackPool : undefined
    this.#sql = mysqlStatements(quotedTable(options.table ?? DEFAULT_TABLE, 'options.table', '`'))
    this.#createTable = options.createTable ?? true
    this.#timeoutMs = options.queryTimeoutMs ?? 10_000
    this.#retainIdleMs = options.retainIdleMs ?? 3_600_000
    this.#livenessPolls = options.waiterLivenessPolls ?? 2
    const sweepEvery = options.sweepIntervalMs ?? 300_000
    if (sweepEvery > 0) {
      this.#sweeper = setInterval(() => void this.sweep().catch(() => undefined), sweepEvery)
      this.#sweeper.unref()
    }
  }

  /**
   * One statement. Granted when the row that comes back holds this owner: the lock was free for
   * `mode` and no other manager had waited longer. A refused waiting manager takes (or keeps) its
   * turn in the row's queue; `retryInMs` is when the holders' ttl or the waiting manager's turn runs out.
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const shared = request.mode === 'shared'
    const holds = (row: LockRow | undefined) =>
      row !== undefined && (shared ? sharedOf(row).some(([owner]) => owner === request.owner) : text(row.owner) === request.owner)
    // Uncontended: one cheap statement. Otherwise (held, shared holders, waiters) the full one.
    const free = (await this.#run('acquire', this.#sql.acquireFree, [
      storedKey(request.key),
      shared,
      request.owner,
      wholeMs(request.ttlMs),
    ])) as LockRow[]
    if (holds(free[0])) return { granted: true, fencingToken: Number(free[0]!.fence) }
    const rows = (await this.#run('acquire', this.#sql.acquire, [
      storedKey(request.key),
      shared,
      request.owner,
      wholeMs(request.ttlMs),
      request.clientId,
      request.waiting,
      wholeMs(this.#livenessPolls * request.pollMs + 100),
      request.once === true,
    ])) as LockRow[]
    const row = rows[0]
    if (!row) throw new Error('MariaDB returned no row for INSERT … RETURNING')
    if (holds(row)) return { granted: true, fencingToken: Number(row.fence) }
    const waits = [row.remaining, row.turn_for].map(Number).filter((ms) => ms > 0)
    return waits.length > 0 ? { granted: false, retryInMs: Math.min(...waits) } : { granted: false }
  }

  /** Owner-checked release: one statement for an exclusive holder, two for a shared one. */
  async release(key: string, owner: string): Promise<boolean> {
    const exclusive = (await this.#run('release', this.#sql.releaseExclusive, [storedKey(key), owner])) as MysqlResultHeader
    if (matched(exclusive) > 0) return true
    const header = (await this.#run('release', this.#sql.release, [owner, owner, owner, storedKey(key), owner, owner])) as MysqlResultHeader
    return matched(header) > 0
  }

  /** Owner-checked extend: one statement for an exclusive holder, two for a shared one. */
  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const ttl = wholeMs(ttlMs)
    const exclusive = (await this.#run('extend', this.#sql.extendExclusive, [ttl, storedKey(key), owner])) as MysqlResultHeader
    if (matched(exclusive) > 0) return true
    const header = (await this.#run('extend', this.#sql.extend, [
      owner,
      owner,
      ttl,
      owner,
      ttl,
      ttl,
      storedKey(key),
      owner,
      owner,
    ])) as MysqlResultHeader
    return matched(header) > 0
  }

  /** Drops every holder and takes the lock exclusively (one statement), with a new fencing token. */
  async steal(request: StealRequest): Promise<Granted> {
    const rows = (await this.#run('steal', this.#sql.steal, [
      storedKey(request.key),
      request.owner,
      wholeMs(request.ttlMs),
      request.clientId,
    ])) as LockRow[]
    return { fencingToken: Number(rows[0]?.fence) }
  }

  /** Drops every holder (one statement); resolves whether a live one existed. */
  async forceRelease(key: string): Promise<boolean> {
    const header = (await this.#run('forceRelease', this.#sql.forceRelease, [storedKey(key)])) as MysqlResultHeader
    return matched(header) > 0
  }

  /** The live holders with their remaining ttl by the database's clock (one statement). */
  async holders(key: string): Promise<Holder[]> {
    const rows = (await this.#run('holders', this.#sql.holders, [storedKey(key)])) as LockRow[]
    const row = rows[0]
    if (!row) return []
    return liveHolders(Number(row.now), text(row.owner), Number(row.expires_at), sharedOf(row))
  }

  /** The managers waiting for `key`: refused, not granted since, still asking (one statement). */
  async waiters(key: string): Promise<Waiter[]> {
    const rows = (await this.#run('waiters', this.#sql.waiters, [storedKey(key)])) as {
      now: number | string
      waiters: string | unknown[]
    }[]
    const row = rows[0]
    if (!row) return []
    const now = Number(row.now)
    const entries = (typeof row.waiters === 'string' ? JSON.parse(row.waiters) : row.waiters) as [string, string, number | string][]
    return entries
      .filter(([, , until]) => Number(until) > now)
      .map(([clientId, mode]) => ({ clientId, mode: mode === 's' ? 'shared' : 'exclusive' }))
  }

  /** Delete rows idle for longer than `retainIdleMs` (at most 1000); resolves how many. Runs by itself every `sweepIntervalMs`. */
  async sweep(): Promise<number> {
    const header = (await this.#run('sweep', this.#sql.sweep, [this.#retainIdleMs, SWEEP_BATCH])) as MysqlResultHeader
    return header.affectedRows
  }

  /**
   * The `CREATE TABLE` statement of the locks table named `table`, for migrations (no connection
   * needed): the statement the store runs itself on first use.
   * @example await queryRunner.query(MysqlStore.tableDdl()) // in a TypeORM migration
   */
  static tableDdl(table: string = DEFAULT_TABLE): string {
    return mysqlStatements(quotedTable(table, 'table', '`')).ddl
  }

  /** The table's DDL, for migrations (the statement the store runs when it creates the table). */
  get ddl(): string {
    return this.#sql.ddl
  }

  /** Stop sweeping; end the pool when `closePool` is set. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
    const owned = this.#owned
    this.#owned = undefined
    try {
      await owned?.end?.()
    } catch {
      // A connection still being made fails the pool's end with its own error: after an outage, the
      // owner-checked release the manager sends for a failed acquire (to an unreachable server) is
      // one. Closing has nothing to report about it (as the Redis store ignores a refused QUIT).
    }
  }

  async #run(operation: string, sql: string, values: unknown[]): Promise<unknown> {
    try {
      return await this.#query(operation, sql, values)
    } catch (error) {
      if (!this.#createTable || !MISSING.has(String((error as { code?: unknown }).code))) throw explained(error)
      // First use: create the table (or add what a table made by an older version lacks), then
      // run the statement again (once).
      await (this.#creating ??= this.#create())
      return this.#query(operation, sql, values).catch((again: unknown) => Promise.reject(explained(again)))
    }
  }

  async #query(operation: string, sql: string, values: unknown[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await withDeadline(this.#pool.query(sql, values), this.#timeoutMs, 'MySQL', operation)
        return result
      } catch (error) {
        // InnoDB can pick one of two concurrent upserts of a new key as a deadlock victim; the
        // victim's statement was rolled back whole, so running it again is safe.
        if ((error as { code?: unknown }).code !== 'ER_LOCK_DEADLOCK' || attempt >= DEADLOCK_ATTEMPTS) throw error
      }
    }
  }

  async #create(): Promise<void> {
    try {
      await this.#query('create table', this.#sql.ddl, [])
      await this.#query('upgrade table', this.#sql.upgrade, [])
    } finally {
      this.#creating = undefined
    }
  }
}

/** The store key as the table holds it: bytes, so the connection's character set cannot change it. */
function storedKey(key: string): Buffer {
  return Buffer.from(safeKey(key, KEY_RULES), 'utf8')
}

/**
 * Rows an UPDATE matched, whether or not it changed them: from the server's "Rows matched: N" note
 * (an extend that sets the same expiry changes nothing, and a pool without the FOUND_ROWS flag
 * then reports 0 affected rows), else the affected rows.
 */
function matched(header: MysqlResultHeader): number {
  const note = /Rows matched: (\d+)/.exec(header.info ?? '')
  return note ? Number(note[1]) : header.affectedRows
}

function text(value: Buffer | string | null): string | null {
  return value === null ? null : value.toString()
}

/** The shared holders of a row: MariaDB returns JSON as text, MySQL as a parsed value. */
function sharedOf(row: LockRow): [string, number][] {
  const pairs = (typeof row.shared === 'string' ? JSON.parse(row.shared) : row.shared) as [string, number | string][] | null
  return (pairs ?? []).map(([owner, expiry]) => [owner, Number(expiry)])
}

/** MySQL (not MariaDB) refuses `RETURNING` as a syntax error: say what is missing. */
function explained(error: unknown): unknown {
  if ((error as { code?: unknown }).code !== 'ER_PARSE_ERROR' || !/RETURNING/i.test(String((error as Error).message))) return error
  return new Error('MysqlStore needs MariaDB 10.6 or later (INSERT … RETURNING); this server refused it (MySQL has no RETURNING)', {
    cause: error,
  })
}
