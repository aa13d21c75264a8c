import type { LockManager } from '@cachelock/core'
import { checkOptions as checkKnownOptions, invalidArgument, resolveLockManager } from '@cachelock/core/adapter-kit'
import type { DataSource, EntitySubscriberInterface } from 'typeorm'
import { modelLockOf } from './row-key.js'
import { DEFAULT_GUARD_TIMEOUT } from './options.js'
import { lockModelConfig, registry, type Installation } from './registry.js'
import { ModelLockSubscriber } from './subscriber.js'

/** Options of `installModelLocks`. */
export interface InstallModelLocksOptions {
  /**
   * The lock manager every lock of this data source is taken in (its store and prefix decide which
   * other processes' and services' locks exclude these).
   * @default the process-wide default manager (`configure()` from `@cachelock/core`)
   */
  locks?: LockManager
  /**
   * Throw `LockOrderError` when a row lock is requested inside another in an order that can
   * deadlock against another flow (a key that sorts before one this flow holds). The
   * `cachelock:lock-order` diagnostics event is published either way. A development and test
   * setting: it turns a rare production deadlock into an immediate error. Each call can override it.
   * @default false
   */
  strictLockOrder?: boolean
  /**
   * How long, in ms, the guard waits for the store to say whether a row is locked before it refuses
   * the write with a `LockError` (`LOCK_STORE_ERROR`). TypeORM runs the guard inside the save's
   * transaction, on a pool connection: during a store outage every guarded save would hold both
   * for as long as the store client waits. A write the guard cannot check is refused, never let
   * through. The holder's own writes need no store call and are not affected.
   * @default 1000
   */
  guardTimeout?: number
  /**
   * Where row locks are held. `'store'`: in the lock manager's store, taken before the transaction
   * starts, with a ttl, renewal and the lost-lock check before commit. `'transaction'` (PostgreSQL
   * only): in the transaction `fn` runs in, as `pg_advisory_xact_lock(hashtextextended(name, 0))`,
   * released by its COMMIT or ROLLBACK: no store, no extra connection, safe behind PgBouncer's
   * transaction pooling, and it cannot be lost while the transaction lives (see the README).
   * @default 'store'
   */
  lockIn?: 'store' | 'transaction'
}

const optionNames = new Set(['locks', 'strictLockOrder', 'guardTimeout', 'lockIn'])

/**
 * Add the model-lock subscriber to a data source, before or after `initialize()`, and check every
 * `@LockModel` entity of it (a field that is not a unique column throws, naming field and entity:
 * here when the data source is initialized, else from `initialize()`, which then closes it again).
 *
 * ```ts
 * installModelLocks(dataSource, { locks })
 * await dataSource.initialize()
 * ```
 *
 * TypeORM rebuilds `dataSource.subscribers` on every `initialize()`, so installing also wraps this
 * data source's `initialize` to add the subscriber back after each one. Installing again updates
 * the settings; the data source keeps one subscriber.
 */
export function installModelLocks<D extends DataSource>(dataSource: D, options?: InstallModelLocksOptions): D {
  checkDataSource(dataSource)
  const { locks, strictLockOrder, guardTimeout, lockIn } = checkOptions(options)
  if (lockIn === 'transaction' && dataSource.options.type !== 'postgres') {
    throw invalidArgument(
      'options.lockIn',
      `"store" on a ${dataSource.options.type} data source ("transaction" takes PostgreSQL advisory locks)`,
      lockIn,
      'LOCK_NOT_SUPPORTED',
    )
  }
  const existing = registry.installations.get(dataSource)
  if (existing) {
    existing.locks = locks
    existing.strictLockOrder = strictLockOrder
    existing.guardTimeout = guardTimeout
    existing.lockIn = lockIn
    if (dataSource.isInitialized) validateModels(dataSource)
    return dataSource
  }
  const installation: Installation = { locks, strictLockOrder, guardTimeout, lockIn, subscriber: undefined as never }
  ;(installation as { subscriber: object }).subscriber = new ModelLockSubscriber(installation)
  registry.installations.set(dataSource, installation)
  registry.installed.add(new WeakRef(dataSource))

  const initialize = dataSource.initialize.bind(dataSource)
  dataSource.initialize = async () => {
    const result = await initialize()
    attach(dataSource, installation)
    try {
      validateModels(dataSource)
    } catch (error) {
      // As TypeORM does when its own metadata checks fail: the data source is not left half-usable.
      await dataSource.destroy()
      throw error
    }
    return result
  }
  if (dataSource.isInitialized) {
    validateModels(dataSource)
    attach(dataSource, installation)
  }
  return dataSource
}

/** The settings `installModelLocks` recorded for a data source, if it was installed. */
export function installationOf(dataSource: object): Installation | undefined {
  return registry.installations.get(dataSource)
}

/** The manager a data source's locks are taken in: the installed one, else the default one. */
export function locksOf(dataSource: object): LockManager {
  return resolveLockManager(registry.installations.get(dataSource)?.locks, 'options.locks')
}

/** The installed data sources still alive. */
export function installedDataSources(): DataSource[] {
  const alive: DataSource[] = []
  for (const ref of registry.installed) {
    const dataSource = ref.deref()
    if (dataSource) alive.push(dataSource as DataSource)
    else registry.installed.delete(ref)
  }
  return alive
}

function attach(dataSource: DataSource, installation: Installation): void {
  const subscribers: EntitySubscriberInterface[] = dataSource.subscribers
  if (!subscribers.includes(installation.subscriber)) subscribers.push(installation.subscriber)
}

/** Resolve every `@LockModel` entity once, so a misconfigured one fails at startup rather than on first use. */
function validateModels(dataSource: DataSource): void {
  for (const metadata of dataSource.entityMetadatas) if (lockModelConfig(metadata.target)) modelLockOf(metadata)
}

function checkDataSource(dataSource: unknown): asserts dataSource is DataSource {
  const looksLikeOne =
    typeof dataSource === 'object' &&
    dataSource !== null &&
    typeof (dataSource as DataSource).initialize === 'function' &&
    typeof (dataSource as DataSource).getMetadata === 'function' &&
    Array.isArray((dataSource as DataSource).subscribers)
  if (!looksLikeOne) throw invalidArgument('dataSource', 'a TypeORM DataSource', dataSource)
}

function checkOptions(options: unknown): Pick<Installation, 'locks' | 'strictLockOrder' | 'guardTimeout' | 'lockIn'> {
  if (options === undefined) return { locks: undefined, strictLockOrder: false, guardTimeout: DEFAULT_GUARD_TIMEOUT, lockIn: 'store' }
  checkKnownOptions(options, 'options', optionNames)
  const { locks, strictLockOrder = false, guardTimeout = DEFAULT_GUARD_TIMEOUT, lockIn = 'store' } = options as InstallModelLocksOptions
  if (lockIn !== 'store' && lockIn !== 'transaction') throw invalidArgument('options.lockIn', '"store" or "transaction"', lockIn)
  if (typeof strictLockOrder !== 'boolean') throw invalidArgument('options.strictLockOrder', 'a boolean', strictLockOrder)
  if (typeof guardTimeout !== 'number' || !Number.isFinite(guardTimeout) || guardTimeout <= 0 || guardTimeout > MAX_TIMER_MS)
    throw invalidArgument('options.guardTimeout', `a finite number of milliseconds > 0 and <= ${MAX_TIMER_MS}`, guardTimeout)
  if (locks !== undefined) resolveLockManager(locks, 'options.locks')
  return { locks, strictLockOrder, guardTimeout, lockIn }
}

// What a Node timer holds (2^31 - 1 ms); longer ones fire at once.
const MAX_TIMER_MS = 2_147_483_647
