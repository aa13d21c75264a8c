import { InvalidLockArgumentError, type Lock, type LockHandle } from '@cachelock/core'
import { checkLockOrder, recordLockHandle, type RecordLockHandle } from '@cachelock/core/adapter-kit'
import type { EntityManager, ObjectLiteral, Repository } from 'typeorm'
import { claimFence } from './fence.js'
import { installationOf, locksOf } from './install.js'
import { lockName, lockWhere, modelLockOf } from './row-key.js'
import { checkLockRowOptions, type LockRowOptions, type WithLockOptions } from './options.js'
import { addTransactionLock, ownedLock, transactionHeld } from './owned-locks.js'
import { withRowLocks } from './row-locks.js'
import { isLockedInTransaction } from './transaction-row-locks.js'

/**
 * A row as the lock methods take it: an object of the lock field(s) (`{ sku: 'A-1' }`), or for a
 * one-field lock its value (`'A-1'`).
 */
export type LockWhere<Entity> = { [K in keyof Entity]?: Entity[K] } | string | number | bigint | boolean | Date | Uint8Array

// The entity is read off `this` (not inferred from `fn` as well): for a union of repositories it is
// the union of their entities, and a row type given to `fn` cannot change it.
type EntityOf<Repo> = Repo extends Repository<infer Entity> ? Entity : never
type Missing = NonNullable<WithLockOptions['missing']>
/** What `fn` gets besides the row: `null` when `missing` may be `'allow'`. */
type Absent<M extends Missing> = 'allow' extends M ? null : never

/**
 * `where` as given, with keys the entity does not have mapped to `never`: `where` is a type
 * parameter (whether it is an array decides `fn`'s type), and a type parameter gets no excess
 * property check, so a typo beside a valid key (`{ sku: 'A-1', skuu: 1 }`) is caught here.
 */
type ExactWhere<W, Entity> = W extends Date | Uint8Array
  ? W
  : [keyof Entity] extends [never] // an entity typed `object`: nothing to check against
    ? W
    : { [K in keyof W]: W extends readonly unknown[] ? ExactWhere<W[K], Entity> : K extends keyof Entity ? W[K] : never }

/** The methods `repository.extend(lockableRepository)` adds. */
export interface LockableRepository {
  /**
   * Lock the row, read it fresh, run `fn(row, manager, lock)` in a transaction on `manager`, confirm
   * the lock is still held before the commit (else `LockLostError` and a rollback), release it
   * after, and resolve with `fn`'s result. A missing row rejects with `EntityNotFoundError` before
   * `fn` runs, unless `missing: 'allow'` (then `fn` gets `null`).
   *
   * With an array, the rows are locked in sorted order (whatever order they are given in) and
   * `fn(rows, manager, locks)` gets rows and locks in the order given (a tuple for an array
   * literal: `([a, b]) => …`).
   *
   * One signature, not one per shape: a mistake in `options` is then reported on the option itself.
   */
  withLock<
    Repo extends Repository<ObjectLiteral>,
    const W extends LockWhere<EntityOf<Repo>> | readonly LockWhere<EntityOf<Repo>>[],
    T,
    M extends Missing = 'reject',
  >(
    this: Repo,
    where: W & ExactWhere<W, EntityOf<Repo>>,
    fn: W extends readonly unknown[]
      ? (rows: { -readonly [I in keyof W]: EntityOf<Repo> | Absent<M> }, manager: EntityManager, locks: Lock[]) => T
      : (row: EntityOf<Repo> | Absent<M>, manager: EntityManager, lock: Lock) => T,
    options?: WithLockOptions & { missing?: M },
  ): Promise<Awaited<T>>
  /**
   * Take the row's lock and return its handle, held until you release it or, with
   * `{ until: 'transaction' }`, until the repository's transaction ends. The handle is a plain
   * lock: the guard lets through the writes of `handle.run(fn)` and, with `until: 'transaction'`,
   * the writes made through that transaction; any other write to the row is refused while it is
   * held, from this request or any other (see the README on `lock()` and async flows).
   */
  lock<Entity extends ObjectLiteral>(
    this: Repository<Entity>,
    where: LockWhere<Entity>,
    options?: LockRowOptions,
  ): Promise<RecordLockHandle>
  /** Whether anyone holds the row's lock right now (a snapshot). */
  isLocked<Entity extends ObjectLiteral>(this: Repository<Entity>, where: LockWhere<Entity>): Promise<boolean>
}

/**
 * Row locks on a TypeORM repository:
 *
 * ```ts
 * const products = dataSource.getRepository(Product).extend(lockableRepository)
 * await products.withLock({ sku: 'A-1' }, async (product, manager) => { ... })
 * ```
 */
export const lockableRepository: LockableRepository = {
  withLock(this: Repository<ObjectLiteral>, where: unknown, fn: unknown, options?: unknown): Promise<any> {
    const many = Array.isArray(where)
    return withRowLocks({
      manager: this.manager,
      target: this.target,
      inputs: many ? where : [where],
      many,
      fn,
      options,
      argument: 'where',
    })
  },

  async lock(this: Repository<ObjectLiteral>, where: unknown, options?: LockRowOptions): Promise<RecordLockHandle> {
    if (installationOf(this.manager.connection)?.lockIn === 'transaction') {
      throw new InvalidLockArgumentError(
        'options.lockIn',
        "lock() returns a handle held until you release it, and a lock held by a transaction (lockIn: 'transaction') has none: use withLock (on a repository bound to your transaction, it holds the lock until that transaction ends)",
        'LOCK_NOT_SUPPORTED',
      )
    }
    const prepared = prepareLock(this, where, options)
    return recordLockHandle(prepared.locks, await takeLock(this.manager, prepared))
  },

  isLocked(this: Repository<ObjectLiteral>, where: unknown): Promise<boolean> {
    try {
      const model = modelLockOf(this.metadata)
      const name = lockName(model, lockWhere(model, where, 'where'), 'where')
      if (installationOf(this.manager.connection)?.lockIn === 'transaction') return isLockedInTransaction(this.manager, name)
      return locksOf(this.manager.connection).isLocked(name)
    } catch (error) {
      return Promise.reject(error)
    }
  },
}

function prepareLock(repository: Repository<ObjectLiteral>, input: unknown, options: unknown) {
  const { acquireOptions, until, strictLockOrder } = checkLockRowOptions(options)
  const dataSource = repository.manager.connection
  const model = modelLockOf(repository.metadata)
  const where = lockWhere(model, input, 'where')
  const name = lockName(model, where, 'where')
  const locks = locksOf(dataSource)
  const installation = installationOf(dataSource)
  const queryRunner = repository.manager.queryRunner
  if (ownedLock(locks, name, queryRunner)) {
    // Core locks are not reentrant: waiting for a lock this flow (or transaction) holds would wait forever.
    throw new InvalidLockArgumentError(
      'where',
      `Lock ${JSON.stringify(name)} is already held by this flow or transaction; use the lock you hold`,
      'LOCK_NOT_SUPPORTED',
    )
  }
  if (until === 'transaction') {
    if (!installation)
      throw new InvalidLockArgumentError(
        'options.until',
        "`until: 'transaction'` needs installModelLocks(dataSource): its subscriber releases the lock when the transaction ends",
      )
    if (!queryRunner?.isTransactionActive) {
      throw new InvalidLockArgumentError(
        'options.until',
        "`until: 'transaction'` needs a repository bound to an open transaction: dataSource.transaction(async (m) => m.withRepository(repo).lock(…))",
      )
    }
  }
  checkLockOrder(locks, [name], strictLockOrder ?? installation?.strictLockOrder ?? false, transactionHeld(queryRunner))
  return { locks, name, model, where, until, queryRunner, acquireOptions }
}

async function takeLock(manager: EntityManager, prepared: ReturnType<typeof prepareLock>): Promise<LockHandle> {
  const { locks, name, model, where, until, queryRunner, acquireOptions } = prepared
  if (until === 'release') {
    const handle = await locks.acquire(name, acquireOptions)
    // Claimed before the caller reads, as withLock does: see claimFence.
    if (model.fence) await claimFence(manager, model, where, handle).catch((error: unknown) => released(handle, error))
    return handle
  }
  // The transaction's registry entry keeps the handle reachable until the transaction ends.
  const handle = await locks.acquire(name, { releaseOnFinalize: false, ...acquireOptions })
  try {
    if (!queryRunner!.isTransactionActive)
      throw new InvalidLockArgumentError('options.until', 'The transaction ended while the lock was being acquired')
    if (model.fence) await claimFence(manager, model, where, handle)
  } catch (error) {
    await handle.release().catch(() => undefined)
    throw error
  }
  addTransactionLock(queryRunner!, handle)
  return handle
}

async function released(handle: LockHandle, error: unknown): Promise<never> {
  await handle.release().catch(() => undefined)
  throw error
}
