import type { AcquireOptions, LockOptions } from '@cachelock/core'
import { invalidArgument, splitLockOptions } from '@cachelock/core/adapter-kit'

/** Options of `withLock` / `withModelLock`: core's lock options, plus how the row is handled. */
export interface WithLockOptions extends LockOptions {
  /**
   * Run `fn` in a transaction (a savepoint when already inside one) that commits only after the
   * lock is confirmed still held. With `false`, `fn` runs on the repository's manager and its writes
   * are durable as they happen: a lock lost meanwhile is still reported (`LockLostError` after
   * `fn`), but cannot be undone.
   * @default true
   */
  transaction?: boolean
  /**
   * What a missing row means. `'reject'`: `withLock` rejects with TypeORM's `EntityNotFoundError`
   * before `fn` runs, and no lock is left. `'allow'`: `fn` receives `null` (the lock is on the key,
   * row or no row), the way to create a row without racing another creator.
   * @default 'reject'
   * @example await products.withLock({ sku }, (p, m) => p ?? m.save(Product, { sku, stock: 0 }), { missing: 'allow' })
   */
  missing?: 'reject' | 'allow'
  /**
   * Throw `LockOrderError` when this lock is requested inside another row lock of this flow that
   * sorts after it (see `installModelLocks`' option of the same name).
   * @default the data source's `strictLockOrder` (false)
   */
  strictLockOrder?: boolean
}

/** Options of the repository's `lock()`: core's `acquire` options, plus how long the lock lives. */
export interface LockRowOptions extends AcquireOptions {
  /**
   * `'release'`: held until you call `release()` on the handle (or leave its `await using` block).
   * `'transaction'`: held until the transaction the repository is bound to commits or rolls back
   * (`m.withRepository(repo).lock(…)` inside `dataSource.transaction`); the lock is confirmed held
   * before the commit, so a lost one rolls the transaction back. Needs `installModelLocks`.
   * @default 'release'
   */
  until?: 'release' | 'transaction'
  /**
   * As in `withLock`.
   * @default the data source's `strictLockOrder` (false)
   */
  strictLockOrder?: boolean
}

/** The default `guardTimeout` of `installModelLocks`: far above a healthy store's round trip, short enough not to starve the pool. */
export const DEFAULT_GUARD_TIMEOUT = 1000

// The adapter's own options; core's lock options come from its table (splitLockOptions), checked up
// front as request() would, with one message listing every option the call takes for a misspelt key.
const withLockOwnOptions = ['transaction', 'missing', 'strictLockOrder'] as const
const lockRowOwnOptions = ['until', 'strictLockOrder'] as const

export interface CheckedWithLockOptions {
  lockOptions: LockOptions
  transaction: boolean
  missing: 'reject' | 'allow'
  strictLockOrder: boolean | undefined
}

export function checkWithLockOptions(options: unknown, extra: readonly string[] = []): CheckedWithLockOptions {
  const { lockOptions, own } = splitLockOptions(options, 'options', [...withLockOwnOptions, ...extra])
  const { transaction = true, missing = 'reject', strictLockOrder } = own as Pick<WithLockOptions, (typeof withLockOwnOptions)[number]>
  if (typeof transaction !== 'boolean') throw invalidArgument('options.transaction', 'a boolean', transaction)
  if (missing !== 'reject' && missing !== 'allow') throw invalidArgument('options.missing', '"reject" or "allow"', missing)
  checkStrict(strictLockOrder)
  return { lockOptions, transaction, missing, strictLockOrder }
}

export interface CheckedLockRowOptions {
  acquireOptions: AcquireOptions
  until: 'release' | 'transaction'
  strictLockOrder: boolean | undefined
}

export function checkLockRowOptions(options: unknown): CheckedLockRowOptions {
  const { lockOptions: acquireOptions, own } = splitLockOptions(options, 'options', lockRowOwnOptions, { handle: true })
  const { until = 'release', strictLockOrder } = own as Pick<LockRowOptions, (typeof lockRowOwnOptions)[number]>
  if (until !== 'release' && until !== 'transaction') throw invalidArgument('options.until', '"release" or "transaction"', until)
  checkStrict(strictLockOrder)
  return { acquireOptions, until, strictLockOrder }
}

export function checkFn<F>(fn: unknown): F {
  if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn)
  return fn as F
}

function checkStrict(value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgument('options.strictLockOrder', 'a boolean', value)
}
