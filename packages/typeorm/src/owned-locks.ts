import type { Lock, LockHandle, LockManager } from '@cachelock/core'
import { heldRecordLock, type HeldRecordLock } from '@cachelock/core/adapter-kit'
import { registry } from './registry.js'

/**
 * Which row locks count as "ours" for the guard and the fence. Never the async flow that merely
 * called `lock()`: holder identity comes from a scope the library opened, or from the transaction
 * a lock was bound to.
 *
 * - the record locks this async flow holds inside a scope: `withLock`'s `fn`, or a handle's
 *   `run(fn)` (core's `withRecordLocks` and `runInRecordLock`, both `AsyncLocalStorage.run`);
 * - the `{ until: 'transaction' }` locks of the query runner the write runs on: the caller passed
 *   that transaction explicitly when it took the lock.
 */

/** The lock on `name` that the write running in this flow, on `queryRunner`, holds. */
export function ownedLock(locks: LockManager, name: string, queryRunner?: object): Lock | undefined {
  return heldRecordLock(locks, name)?.lock ?? (queryRunner ? transactionLock(queryRunner, name) : undefined)
}

/**
 * The `{ until: 'transaction' }` lock on `name` of this query runner's transaction: while held, and
 * also once lost (its writes must then meet the `LockLostError`, not pass as a stranger's).
 */
export function transactionLock(queryRunner: object, name: string): LockHandle | undefined {
  return transactionLocks(queryRunner).find((handle) => handle.name === name && (handle.held || handle.signal.aborted))
}

/** The transaction's live locks, as lock-order checks take them. */
export function transactionHeld(queryRunner: object | undefined): HeldRecordLock[] {
  if (!queryRunner) return []
  return transactionLocks(queryRunner)
    .filter((handle) => handle.held)
    .map((lock) => ({ name: lock.name, lock, context: queryRunner, alive: true }))
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
