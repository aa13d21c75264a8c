import { LockError } from '@cachelock/core'

/** The writes the guard checks. */
export type GuardedOperation = 'insert' | 'update' | 'remove' | 'soft-remove' | 'recover'

/**
 * The guard refused a write: another flow (another request, process or service) holds the row's
 * lock. Nothing was written; the transaction the write ran in rolls back as with any failed save.
 * Take the lock (`withLock`) before writing, or retry once it is free.
 */
export class LockedRowError extends LockError {
  override name = 'LockedRowError'
  override code = 'LOCK_HELD' as const
  /** The row's lock name, e.g. `product:sku:A-1`. */
  readonly lockName: string
  /** The entity written, e.g. `Product`. */
  readonly entity: string
  readonly operation: GuardedOperation

  constructor(lockName: string, entity: string, operation: GuardedOperation) {
    super(
      `Cannot ${operation} ${entity}: its lock ${JSON.stringify(lockName)} is held by another holder. Nothing was written; take the lock (withLock) before writing.`,
    )
    this.lockName = lockName
    this.entity = entity
    this.operation = operation
  }
}

/**
 * A write made without the row's lock, from an entity loaded before a lock holder wrote the row
 * (the row's fence column moved since the entity was loaded): saving it would overwrite that
 * holder's work with values computed from the row as it was. Nothing was written; the transaction
 * the write ran in rolls back as with any failed save. Load the entity again and redo the change,
 * or make it under the lock (`withLock`).
 */
export class StaleEntityError extends LockError {
  override name = 'StaleEntityError'
  override code = 'LOCK_STALE_ENTITY' as const
  /** The row's lock name, e.g. `product:sku:A-1`. */
  readonly lockName: string
  /** The entity written, e.g. `Product`. */
  readonly entity: string
  readonly operation: GuardedOperation

  constructor(lockName: string, entity: string, operation: GuardedOperation, loaded: bigint, current: bigint) {
    super(
      `Cannot ${operation} ${entity}: this entity was loaded before a holder of its lock ${JSON.stringify(lockName)} wrote the row ` +
        `(fence ${loaded} when loaded, ${current} now), and saving it would overwrite that write. Nothing was written; ` +
        'load it again and redo the change, or make it inside withLock.',
    )
    this.lockName = lockName
    this.entity = entity
    this.operation = operation
  }
}
