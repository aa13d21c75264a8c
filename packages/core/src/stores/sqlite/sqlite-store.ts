import { keyBytes } from '../../keys.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, LockStore, StealRequest, Waiter } from '../../store.js'
import { invalid } from '../../validate.js'
import { checkSqliteStoreOptions, type SqliteStoreOptions } from './options.js'
import { wholeMs } from '../sql/holders.js'
import { DEFAULT_TABLE, quotedTable } from '../sql/table-name.js'
import type { SqliteDatabase, SqliteStatement } from './client.js'
import { decodeRow, emptyRow, free, holdersOf, latestExpiry, prune, waitersOf, type LockRow, type RawRow } from './lock-row.js'
import { sqliteStatements, type SqliteStatements } from './statements.js'

const SWEEP_BATCH = 1000

interface Prepared {
  now: SqliteStatement
  begin: SqliteStatement
  commit: SqliteStatement
  rollback: SqliteStatement
  read: SqliteStatement
  write: SqliteStatement
  sweep: SqliteStatement
}

/** What an operation decided: its answer, and whether the row must be written back. */
interface Outcome<T> {
  answer: T
  write: boolean
}

/**
 * Locks in a SQLite table, over a `better-sqlite3` `Database`: for apps with no server at all, and
 * for several processes on one host sharing one file (django-cache-lock's file backend).
 *
 * Each operation is one short write transaction (`BEGIN IMMEDIATE`), atomic across processes;
 * expiry is decided by SQLite's clock (the host's, shared by every process on it). WAL journaling
 * (`wal`) lets readers and the writer proceed together; a process that finds the file locked by
 * another writer waits up to the database's busy timeout (better-sqlite3's `timeout`, 5 s by
 * default), then the operation fails with `SQLITE_BUSY`. Contending managers queue in the row, so
 * the lock goes to the longest-waiting one: a stream of shared holders cannot starve an exclusive
 * request, nor one process another. There are no notifications: waiters poll every `sleep`.
 *
 * better-sqlite3 is synchronous: an operation blocks the event loop for its few microseconds (and,
 * while another process writes, up to the busy timeout). Give locks a database file of their own
 * (`sqlite:///var/lib/app/locks.db`) rather than the app's, so lock operations never wait for the
 * app's own long write transactions. On a connection where a transaction is open (an ORM
 * transaction spanning an `await`), operations reject instead of joining it.
 *
 * @example
 * const locks = createLockManager({ store: new SqliteStore(new Database('/var/lib/app/locks.db')) })
 */
export class SqliteStore implements LockStore {
  readonly #db: SqliteDatabase
  readonly #sql: SqliteStatements
  readonly #createTable: boolean
  readonly #wal: boolean
  readonly #retainIdleMs: number
  readonly #livenessPolls: number
  readonly #closeDatabase: boolean
  #prepared: Prepared | undefined
  #sweeper: NodeJS.Timeout | undefined

  constructor(database: SqliteDatabase, options: SqliteStoreOptions = {}) {
    checkSqliteStoreOptions(options)
    if (typeof database !== 'object' || database === null || typeof (database as { prepare?: unknown }).prepare !== 'function') {
      throw invalid('database', 'a better-sqlite3 Database', database)
    }
    this.#db = database
    this.#sql = sqliteStatements(quotedTable(options.table ?? DEFAULT_TABLE, 'options.table', '"'))
    this.#createTable = options.createTable ?? true
    this.#wal = options.wal ?? true
    this.#retainIdleMs = options.retainIdleMs ?? 3_600_000
    this.#livenessPolls = options.waiterLivenessPolls ?? 2
    this.#closeDatabase = options.closeDatabase ?? false
    const sweepEvery = options.sweepIntervalMs ?? 300_000
    if (sweepEvery > 0) {
      this.#sweeper = setInterval(() => void this.sweep().catch(() => undefined), sweepEvery)
      this.#sweeper.unref()
    }
  }

  /** The database this store runs on. */
  get database(): SqliteDatabase {
    return this.#db
  }

  /**
   * One write transaction. Granted when the lock is free for `mode` and no other manager has been
   * waiting longer; a waiting manager that is refused takes (or keeps) its turn in the row's queue.
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const liveness = this.#livenessPolls * request.pollMs + 100
    return this.#transact(request.key, (row, now): Outcome<AcquireResult> => {
      prune(row, now)
      const turn = row.queue.findIndex(([client]) => client === request.clientId)
      const head = row.queue[0]
      const overtaking = head !== undefined && head[0] !== request.clientId
      if (free(row, request.mode) && !overtaking) {
        row.fence = Math.max(row.fence + 1, now * 1000)
        if (turn !== -1) row.queue.splice(turn, 1)
        delete row.waiters[request.clientId]
        if (request.mode === 'shared') row.shared[request.owner] = now + wholeMs(request.ttlMs)
        else {
          row.owner = request.owner
          row.expiresAt = now + wholeMs(request.ttlMs)
        }
        return { answer: { granted: true, fencingToken: row.fence }, write: true }
      }
      if (request.waiting) {
        if (turn === -1) row.queue.push([request.clientId, now, now + liveness])
        else row.queue[turn]![2] = now + liveness
      }
      if (request.once !== true) row.waiters[request.clientId] = [request.mode === 'shared' ? 's' : 'x', now + liveness]
      // Held: until the holders expire. Free but kept for the manager whose turn it is: until it
      // asks again or is forgotten.
      const until = free(row, request.mode) ? Math.min(...row.queue.slice(0, 1).map(([, , until]) => until)) : latestExpiry(row)
      return { answer: { granted: false, retryInMs: Math.max(0, until - now) }, write: request.waiting || request.once !== true }
    })
  }

  /** Owner-checked release (one write transaction). */
  async release(key: string, owner: string): Promise<boolean> {
    return this.#transact(key, (row, now) => {
      if (row.owner === owner) {
        const live = row.expiresAt > now
        row.owner = null
        row.expiresAt = now
        return { answer: live, write: true }
      }
      const expiry = row.shared[owner]
      if (expiry === undefined) return { answer: false, write: false }
      delete row.shared[owner]
      return { answer: expiry > now, write: true }
    })
  }

  /** Owner-checked extend (one write transaction). */
  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#transact(key, (row, now) => {
      const until = now + wholeMs(ttlMs)
      if (row.owner === owner && row.expiresAt > now) {
        row.expiresAt = until
        return { answer: true, write: true }
      }
      const expiry = row.shared[owner]
      if (expiry === undefined || expiry <= now) return { answer: false, write: false }
      row.shared[owner] = until
      return { answer: true, write: true }
    })
  }

  /** Drops every holder and takes the lock exclusively, with a new fencing token. */
  async steal(request: StealRequest): Promise<Granted> {
    return this.#transact(request.key, (row, now) => {
      row.fence = Math.max(row.fence + 1, now * 1000)
      row.owner = request.owner
      row.expiresAt = now + wholeMs(request.ttlMs)
      row.shared = {}
      row.queue = row.queue.filter(([client]) => client !== request.clientId)
      delete row.waiters[request.clientId]
      return { answer: { fencingToken: row.fence }, write: true }
    })
  }

  /** Drops every holder; resolves whether a live one existed. */
  async forceRelease(key: string): Promise<boolean> {
    return this.#transact(key, (row, now) => {
      const live = holdersOf(row, now).length > 0
      row.owner = null
      row.expiresAt = now
      row.shared = {}
      return { answer: live, write: live }
    })
  }

  /** The live holders with their remaining ttl (a read; no write lock). */
  holders(key: string): Promise<Holder[]> {
    return settle(() => {
      const sql = this.#statements()
      const now = Number((sql.now.get() as { now: number }).now)
      return holdersOf(decodeRow(sql.read.get(keyBytes(key)) as RawRow | undefined), now)
    })
  }

  /** The managers waiting for `key`: refused, not granted since, still asking (a read; no write lock). */
  waiters(key: string): Promise<Waiter[]> {
    return settle(() => {
      const sql = this.#statements()
      const now = Number((sql.now.get() as { now: number }).now)
      return waitersOf(decodeRow(sql.read.get(keyBytes(key)) as RawRow | undefined), now)
    })
  }

  /** Delete rows idle for longer than `retainIdleMs` (at most 1000); resolves how many. Runs by itself every `sweepIntervalMs`. */
  sweep(): Promise<number> {
    return settle(() => {
      const sql = this.#statements()
      const now = Number((sql.now.get() as { now: number }).now)
      return sql.sweep.run(now - this.#retainIdleMs, SWEEP_BATCH).changes
    })
  }

  /**
   * The `CREATE TABLE` statement of the locks table named `table`, for migrations (no connection
   * needed): the statement the store runs itself on first use.
   * @example await queryRunner.query(SqliteStore.tableDdl()) // in a TypeORM migration
   */
  static tableDdl(table: string = DEFAULT_TABLE): string {
    return sqliteStatements(quotedTable(table, 'table', '"')).ddl
  }

  /** The table's DDL, for migrations. */
  get ddl(): string {
    return this.#sql.ddl
  }

  /** Stop sweeping; close the database when `closeDatabase` is set. */
  close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
    return settle(() => {
      if (this.#closeDatabase && this.#db.open) this.#db.close()
    })
  }

  /** Read the row of `key` under the write lock, let `decide` change it, write it back, commit. */
  #transact<T>(key: string, decide: (row: LockRow, now: number) => Outcome<T>): Promise<T> {
    return settle(() => this.#transactNow(key, decide))
  }

  #transactNow<T>(key: string, decide: (row: LockRow, now: number) => Outcome<T>): T {
    const sql = this.#statements()
    if (this.#db.inTransaction) {
      throw new Error(
        'SqliteStore: a transaction is open on this database connection; lock operations would join it. Give the store a connection of its own',
      )
    }
    const id = keyBytes(key)
    sql.begin.run()
    try {
      const now = Number((sql.now.get() as { now: number }).now)
      const row = decodeRow(sql.read.get(id) as RawRow | undefined) ?? emptyRow()
      const { answer, write } = decide(row, now)
      if (write) {
        // Without an exclusive holder, `expires_at` is when anything in the row was last live: what sweeping goes by.
        const expiresAt = row.owner === null ? Math.max(now, latestExpiry(row)) : row.expiresAt
        sql.write.run(
          id,
          row.owner,
          expiresAt,
          JSON.stringify(row.shared),
          JSON.stringify(row.queue),
          row.fence,
          JSON.stringify(row.waiters),
        )
      }
      sql.commit.run()
      return answer
    } catch (error) {
      if (this.#db.inTransaction) sql.rollback.run()
      throw error
    }
  }

  /** Prepare the statements on first use, creating the table (and switching to WAL) first. */
  #statements(): Prepared {
    if (this.#prepared) return this.#prepared
    if (this.#wal) this.#db.pragma('journal_mode = WAL')
    if (this.#createTable) {
      this.#db.exec(this.#sql.ddl)
      try {
        this.#db.exec(this.#sql.upgrade)
      } catch (error) {
        // Made by this version (or upgraded before): the column is there.
        if (!/duplicate column/i.test(String((error as Error).message))) throw error
      }
    }
    const prepare = (sql: string) => this.#db.prepare(sql)
    const sql = this.#sql
    this.#prepared = {
      now: prepare(sql.now),
      begin: prepare(sql.begin),
      commit: prepare(sql.commit),
      rollback: prepare(sql.rollback),
      read: prepare(sql.read),
      write: prepare(sql.write),
      sweep: prepare(sql.sweep),
    }
    return this.#prepared
  }
}

/** Run a synchronous better-sqlite3 call as the store's async API: a throw becomes a rejection. */
function settle<T>(run: () => T): Promise<T> {
  return new Promise((resolve) => resolve(run()))
}
