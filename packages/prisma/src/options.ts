import type { LockManager, LockOptions } from '@cachelock/core'
import { checkOptions, invalidArgument, resolveLockManager, splitLockOptions } from '@cachelock/core/adapter-kit'

/**
 * How long a `withLock` transaction may run before Prisma rolls it back, in ms. Prisma's own
 * default (5 s) kills ordinary slow work under a lock (a payment call, a PDF); an hour would let
 * a hung `fn` pin a connection and its row locks indefinitely. A minute sits between.
 */
export const DEFAULT_TRANSACTION_TIMEOUT = 60_000

/** Options of the interactive transaction `withLock` runs `fn` in (Prisma's own, passed through). */
export interface TransactionOptions {
  /**
   * Roll back and reject when the transaction (reading the record, `fn`, the ownership check)
   * runs longer than this many ms.
   * @default 60000
   */
  timeout?: number
  /**
   * How long to wait for a connection to start the transaction, in ms. The lock is taken before
   * the transaction starts, so no connection is held while waiting for the lock.
   * @default Prisma's default (2000)
   */
  maxWait?: number
  /**
   * The transaction's isolation level, as Prisma takes it (`'Serializable'`, `'ReadCommitted'`, ...).
   * @default the database's default
   */
  isolationLevel?: string
}

/** Per-model settings, keyed by the model's name in the schema (`Product`, not `product`). */
export interface ModelLockOptions {
  /**
   * The unique field a bare value names: `db.product.withLock('A-1', fn)` locks `{ sku: 'A-1' }`
   * with `by: 'sku'`. Prisma's runtime data model does not say which field is the primary key,
   * so models whose key is not `id` set it here. It must be an `@id` or `@unique` field (checked
   * against the schema when the extension is applied): a lock by any other field names no one row.
   * @default 'id'
   */
  by?: string
  /**
   * An `Int` or `BigInt` column that fences writes. `withLock` reads the row by claiming it: one
   * `UPDATE … SET fence = token WHERE … AND fence <= token RETURNING …`, rejecting before `fn` when
   * a newer holder has claimed it. Inside `withLock`, an update, upsert or delete of the locked row
   * only applies while the column is <= the lock's fencing token, and sets it to the token, in the
   * same statement. A holder that lost its lock to a newer one then writes nothing and gets
   * `LockLostError`, so a read-modify-write loses no update to it. Add the column with
   * `lockFence BigInt @default(0)`.
   * @default undefined (no fencing)
   */
  fence?: string
}

/** Options of `lockExtension()`. */
export interface LockExtensionOptions {
  /**
   * The lock manager. Unset: the process-wide default (`configure()`, else `CACHELOCK_URL`, else
   * an in-memory store), looked up at each call so `configure()` may run after `$extends`.
   * @default defaultLockManager()
   */
  locks?: LockManager
  /**
   * Per-model settings, by model name.
   * @example { Product: { by: 'sku', fence: 'lockFence' } }
   * @default {}
   */
  models?: Readonly<Record<string, ModelLockOptions>>
  /**
   * The default `transaction` option of `withLock`.
   * @default { timeout: 60000 }
   */
  transaction?: false | TransactionOptions
  /**
   * The default `strictLockOrder` of `withLock`: throw `LockOrderError` when a record lock is
   * requested inside another one that sorts after it. A development setting (see the README).
   * @default false
   */
  strictLockOrder?: boolean
  /**
   * Where `withLock` holds record locks. `'store'`: in the lock manager's store (Redis, memcached,
   * a database store, …), taken before the transaction starts, with a ttl, renewal and the
   * lost-lock check before commit. `'transaction'` (PostgreSQL only): in `withLock`'s own
   * transaction, as `pg_advisory_xact_lock(hashtextextended(name, 0))`, released by its COMMIT or
   * ROLLBACK: no store, no extra connection or round trip to one, safe behind PgBouncer's
   * transaction pooling, and it cannot be lost while the transaction lives. See the README for
   * what each mode guarantees.
   * @example lockExtension({ lockIn: 'transaction' })
   * @default 'store'
   */
  lockIn?: 'store' | 'transaction'
}

/** Options of `db.model.withLock()`: every core lock option, plus the adapter's own. */
export interface WithLockOptions extends LockOptions {
  /**
   * Run `fn` in an interactive transaction (`{ timeout, maxWait, isolationLevel }`), or without
   * one (`false`: `tx` is then the client itself and nothing can be rolled back).
   * @default the extension's `transaction` option ({ timeout: 60000 })
   */
  transaction?: false | TransactionOptions
  /**
   * What to do when a record does not exist: `'reject'` before `fn` runs, or `'allow'` and call
   * `fn` with `null`, the lock held on the key the row would have (check-then-create).
   * @default 'reject'
   */
  missing?: 'reject' | 'allow'
  /**
   * Throw `LockOrderError` when this lock is requested while the flow holds a record lock that
   * sorts after it.
   * @default the extension's `strictLockOrder` (false)
   */
  strictLockOrder?: boolean
}

export interface ResolvedExtensionOptions {
  /** The manager to use now: the given one, or the current default. */
  manager: () => LockManager
  models: ReadonlyMap<string, ModelLockOptions>
  transaction: false | TransactionOptions
  strictLockOrder: boolean
  lockIn: 'store' | 'transaction'
}

/** A `withLock` call's options after validation, split into the core's and the adapter's. */
export interface ResolvedWithLockOptions {
  lockOptions: LockOptions
  /** Only the options that were given or defaulted (no `undefined` values): `$transaction`'s options as they are. */
  transaction: false | TransactionOptions
  missing: 'reject' | 'allow'
  strictLockOrder: boolean
}

// Core's lock options come from its table (splitLockOptions): checked up front, as request() would.
const withLockOwnOptions = ['missing', 'strictLockOrder', 'transaction'] as const
const extensionOptionNames = new Set(['locks', 'lockIn', 'models', 'strictLockOrder', 'transaction'])
const modelOptionNames = new Set(['by', 'fence'])
const transactionOptionNames = new Set(['isolationLevel', 'maxWait', 'timeout'])

/** Validate `lockExtension()`'s options; the models are checked against the client in `$extends`. */
export function resolveExtensionOptions(options: LockExtensionOptions | undefined): ResolvedExtensionOptions {
  const given = checkKeys(options, 'options', extensionOptionNames) as LockExtensionOptions
  const fixed = given.locks === undefined ? undefined : resolveLockManager(given.locks, 'options.locks')
  const models = new Map<string, ModelLockOptions>()
  if (given.models !== undefined) {
    for (const [model, settings] of Object.entries(checkKeys(given.models, 'options.models'))) {
      const argument = `options.models.${model}`
      const { by, fence } = checkKeys(settings, argument, modelOptionNames) as ModelLockOptions
      if (by !== undefined && (typeof by !== 'string' || by === '')) throw invalidArgument(`${argument}.by`, 'a field name', by)
      if (fence !== undefined && (typeof fence !== 'string' || fence === ''))
        throw invalidArgument(`${argument}.fence`, 'a field name', fence)
      models.set(model, { by, fence })
    }
  }
  return {
    manager: fixed ? () => fixed : () => resolveLockManager(undefined, 'options.locks'),
    models,
    transaction: resolveTransaction(given.transaction, 'options.transaction', { timeout: DEFAULT_TRANSACTION_TIMEOUT }),
    strictLockOrder: given.strictLockOrder === undefined ? false : checkBoolean(given.strictLockOrder, 'options.strictLockOrder'),
    lockIn: checkLockIn(given.lockIn),
  }
}

function checkLockIn(value: unknown): 'store' | 'transaction' {
  if (value === undefined) return 'store'
  if (value !== 'store' && value !== 'transaction') throw invalidArgument('options.lockIn', '"store" or "transaction"', value)
  return value
}

/** Validate `withLock()`'s options against the extension's defaults. */
export function resolveWithLockOptions(options: WithLockOptions | undefined, defaults: ResolvedExtensionOptions): ResolvedWithLockOptions {
  const { lockOptions, own } = splitLockOptions(options, 'options', withLockOwnOptions)
  const { transaction, missing, strictLockOrder } = own as Pick<WithLockOptions, (typeof withLockOwnOptions)[number]>
  if (missing !== undefined && missing !== 'reject' && missing !== 'allow')
    throw invalidArgument('options.missing', '"reject" or "allow"', missing)
  return {
    lockOptions,
    transaction: resolveTransaction(transaction, 'options.transaction', defaults.transaction),
    missing: missing ?? 'reject',
    strictLockOrder: strictLockOrder === undefined ? defaults.strictLockOrder : checkBoolean(strictLockOrder, 'options.strictLockOrder'),
  }
}

function resolveTransaction(value: unknown, argument: string, fallback: false | TransactionOptions): false | TransactionOptions {
  if (value === undefined) return fallback
  if (value === false) return false
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument(argument, 'false or { timeout, maxWait, isolationLevel }', value)
  const { timeout, maxWait, isolationLevel } = checkKeys(value, argument, transactionOptionNames) as TransactionOptions
  if (timeout !== undefined) checkMilliseconds(timeout, `${argument}.timeout`)
  if (maxWait !== undefined) checkMilliseconds(maxWait, `${argument}.maxWait`)
  if (isolationLevel !== undefined && typeof isolationLevel !== 'string')
    throw invalidArgument(`${argument}.isolationLevel`, 'an isolation level name', isolationLevel)
  // A call's transaction options complete the extension's: `{ isolationLevel }` keeps the timeout.
  const base = fallback === false ? { timeout: DEFAULT_TRANSACTION_TIMEOUT } : fallback
  return { ...base, ...definedOnly({ timeout, maxWait, isolationLevel }) }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

function checkMilliseconds(value: unknown, argument: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalidArgument(argument, 'a finite number of milliseconds > 0', value)
}

function checkBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(argument, 'a boolean', value)
  return value
}

/** An options bag: undefined or a plain object, every key known when `known` is given. */
function checkKeys(value: unknown, argument: string, known?: ReadonlySet<string>): Record<string, unknown> {
  if (known) return checkOptions(value, argument, known)
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(argument, 'an options object', value)
  return value as Record<string, unknown>
}
