import { InvalidLockArgumentError, LockNotAcquiredError } from '../errors.js'
import { Lock } from '../lock.js'
import type { LockOptions } from '../options.js'
import type { LockMode } from '../store.js'
import { checkOptions, invalid as invalidArgument } from '../validate.js'

/**
 * Record locks held by a PostgreSQL transaction instead of a lock store: the ORM adapters'
 * `lockIn: 'transaction'` mode. The lock is a transaction-level advisory lock on a 64-bit key
 * hashed from the record's lock name by the server, so a hand-written transaction excludes the
 * adapters' with the same statement:
 *
 *   SELECT pg_advisory_xact_lock(hashtextextended('order:id:42', 0))
 *
 * (`hashtextextended` is the hash PostgreSQL's hash partitioning stores rows by: it is the same on
 * every platform and release since 11.) COMMIT or ROLLBACK releases it, and so does the server
 * when the connection dies: no ttl, no store, no extra connection, and safe behind a transaction
 * pooler, since the lock lives exactly as long as the transaction it was taken in.
 */

/** What a transaction-scoped lock is asked for with, from the call's lock options. */
export interface TransactionLockRequest {
  readonly mode: LockMode
  /** Give up at once when the lock is taken (`ifAvailable`, or `timeout: 0`). */
  readonly tryOnly: boolean
  /** Wait at most this many ms (`lock_timeout`, for the lock statement only); `undefined`: wait. */
  readonly timeout: number | undefined
}

/** A statement with `$1`-style placeholders, as both `pg`-based ORMs take it. */
export interface TransactionLockStatement {
  readonly text: string
  readonly values: unknown[]
}

const key = 'hashtextextended($1, 0)'
const supported = new Set(['mode', 'ifAvailable', 'timeout', 'ttl', 'autoExtend', 'steal', 'signal'])

/**
 * Check a call's lock options for the transaction mode. `ttl` and `autoExtend` do not apply (the
 * transaction holds the lock, and its own timeout bounds how long) and are ignored; `steal` and
 * `signal` cannot be done to a lock another transaction holds, and are refused.
 */
export function transactionLockRequest(options: LockOptions, argument = 'options'): TransactionLockRequest {
  const { mode = 'exclusive', ifAvailable = false, timeout, steal, signal } = checkOptions(options, argument, supported) as LockOptions
  if (mode !== 'exclusive' && mode !== 'shared') throw invalidArgument(`${argument}.mode`, '"exclusive" or "shared"', mode)
  if (typeof ifAvailable !== 'boolean') throw invalidArgument(`${argument}.ifAvailable`, 'a boolean', ifAvailable)
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0))
    throw invalidArgument(`${argument}.timeout`, 'a finite number of milliseconds >= 0', timeout)
  for (const [name, value] of [
    ['steal', steal],
    ['signal', signal],
  ] as const) {
    if (value !== undefined && value !== false)
      throw new InvalidLockArgumentError(
        `${argument}.${name}`,
        `\`${name}\` is not supported with lockIn: 'transaction': the lock belongs to the transaction that took it ` +
          (name === 'steal' ? 'until it ends' : '(use `timeout` to bound the wait)'),
        'LOCK_NOT_SUPPORTED',
      )
  }
  const tryOnly = ifAvailable || timeout === 0
  return { mode, tryOnly, timeout: tryOnly ? undefined : timeout }
}

/**
 * The one statement that takes `name`'s lock in the current transaction; its one row's `locked` is
 * true when granted (false only when `tryOnly` found it taken). A `timeout` is set as
 * `lock_timeout` for the lock statement alone and put back in the same statement, so `fn`'s own
 * statements keep the session's setting. Each level is a sub-select the planner keeps apart
 * (`OFFSET 0`), so the three steps run in order.
 */
export function transactionLockStatement(name: string, request: TransactionLockRequest): TransactionLockStatement {
  const shared = request.mode === 'shared' ? '_shared' : ''
  if (request.tryOnly) return { text: `SELECT pg_try_advisory_xact_lock${shared}(${key}) AS locked`, values: [name] }
  if (request.timeout === undefined)
    return { text: `SELECT true AS locked FROM (SELECT pg_advisory_xact_lock${shared}(${key}) OFFSET 0) AS granted`, values: [name] }
  return {
    text:
      `SELECT set_config('lock_timeout', previous, true) IS NOT NULL AS locked FROM (` +
      `SELECT previous, pg_advisory_xact_lock${shared}(${key})::text AS granted FROM (` +
      `SELECT previous, set_config('lock_timeout', $2, true) AS applied FROM (` +
      `SELECT current_setting('lock_timeout') AS previous OFFSET 0) AS saved OFFSET 0) AS limited OFFSET 0) AS taken`,
    values: [name, `${Math.ceil(request.timeout)}ms`],
  }
}

/**
 * The statement that tells whether a transaction holds `name`'s lock right now (a snapshot, like
 * `isLocked`): its one row's `locked`. With `others`, only a transaction of another connection
 * counts. PostgreSQL shows a 64-bit advisory key as two 32-bit halves.
 */
export function transactionLockQuery(name: string, { others = false }: { others?: boolean } = {}): TransactionLockStatement {
  return {
    text:
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted ` +
      (others ? 'AND pid <> pg_backend_pid() ' : '') +
      `AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ` +
      `AND classid::bigint = ((${key} >> 32) & 4294967295) AND objid::bigint = (${key} & 4294967295)) AS locked`,
    values: [name],
  }
}

// SQLSTATEs of a lock statement that gave up waiting: lock_timeout, and statement_timeout (the
// server cancels the statement; a cancel from elsewhere reads the same and is as much a give-up).
const gaveUp = new Set(['55P03', '57014'])

/**
 * The error to report for a lock statement that failed: `LockNotAcquiredError` (with the
 * database's error as `cause`) when it stopped waiting on `lock_timeout` or `statement_timeout`,
 * else the database's error itself.
 */
export function transactionLockFailure(name: string, error: unknown): unknown {
  if (!hasSqlState(error, gaveUp)) return error
  const failure = new LockNotAcquiredError(
    name,
    `Lock ${JSON.stringify(name)} was not acquired: the transaction waited for it until the database's lock_timeout or statement_timeout ran out`,
  )
  failure.cause = error
  return failure
}

/**
 * Whether a database error, as the `pg` driver or an ORM wraps it (Prisma: `meta.driverAdapterError
 * .cause.originalCode`; TypeORM: `driverError.code`), carries one of `states` as its SQLSTATE.
 */
function hasSqlState(error: unknown, states: ReadonlySet<string>, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false
  const { code, originalCode, cause, driverError, meta } = error as Record<string, unknown>
  if ([originalCode, code].some((candidate) => typeof candidate === 'string' && states.has(candidate))) return true
  const adapterError = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError
  return [driverError, cause, adapterError].some((inner) => hasSqlState(inner, states, depth + 1))
}

/** A lock a transaction holds, as the adapters hand it to `fn`, and the switch that ends it. */
export interface TransactionLock {
  readonly lock: Lock
  /** The transaction has committed or rolled back: the lock is no longer held. */
  end(): void
}

/**
 * The `Lock` of a record locked in a transaction. It cannot be lost while the transaction lives:
 * its `signal` never aborts, `ensureHeld()` needs no round trip, and `extend()` has nothing to do
 * (it rejects with `LockNotOwnedError` once the transaction has ended). `fencingToken` is what the
 * adapter claimed the row's fence column with, or 0 on a model without one.
 */
export function transactionLock(name: string, mode: LockMode, fencingToken: number, ttl: number): TransactionLock {
  let held = true
  const controller = new AbortController()
  const lease = {
    name,
    mode,
    fencingToken,
    ttl,
    signal: controller.signal,
    get held() {
      return held
    },
    extend: () => Promise.resolve(held),
  }
  const lock = new Lock(lease as unknown as ConstructorParameters<typeof Lock>[0])
  return {
    lock,
    end() {
      held = false
    },
  }
}
