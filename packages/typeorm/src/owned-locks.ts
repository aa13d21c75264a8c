import { heldRecordLock, type Lock, type LockHandle, type LockManager } from '@cachelock/core'
import { registry } from './registry.js'

/**
 * Which row locks count as "ours" for the guard and the fence: the record locks this async flow
 * holds, through `withLock` or through `lock()` handles (both tracked by core's record scope:
 * `withRecordLocks` and `enterRecordLock`).
 */

/** The lock on `name` this flow holds in `locks`, whether from `withLock` or from `lock()`. */
export function ownedLock(locks: LockManager, name: string): Lock | undefined {
  return heldRecordLock(locks, name)?.lock
}

/** Remember a `{ until: 'transaction' }` lock against the query runner whose transaction holds it. */
export function addTransactionLock(queryRunner: object, handle: LockHandle): void {
  const list = registry.transactionLocks.get(queryRunner)
  if (list) list.push({ handle })
  else registry.transactionLocks.set(queryRunner, [{ handle }])
}

/** The transaction locks of a query runner (live or not). */
export function transactionLocks(queryRunner: object): readonly LockHandle[] {
  return (registry.transactionLocks.get(queryRunner) ?? []).map((entry) => entry.handle)
}

/** Forget and release every transaction lock of a query runner. The commit or rollback already happened. */
export async function releaseTransactionLocks(queryRunner: object): Promise<void> {
  const list = registry.transactionLocks.get(queryRunner)
  if (!list) return
  registry.transactionLocks.delete(queryRunner)
  await Promise.all(
    list.map(({ handle }) =>
      // A lock lost meanwhile rejects with LockNotOwnedError, a store failure with LockError: the
      // transaction has ended either way and its outcome must stand; the ttl frees what is left.
      handle.held ? handle.release().catch(() => undefined) : Promise.resolve(),
    ),
  )
}
