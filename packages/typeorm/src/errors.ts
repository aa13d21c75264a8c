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
