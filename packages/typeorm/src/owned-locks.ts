import { heldRecordLock, type Lock, type LockHandle, type LockManager } from '@cachelock/core'
import { registry, type FlowLock } from './registry.js'

/**
 * Which row locks count as "ours" for the guard and the fence: the record locks this async flow
 * holds through `withLock` (core's `heldRecordLock`), and handles from `lock()` that this flow took.
 */

/** The lock on `name` this flow holds in `locks`, whether from `withLock` or from `lock()`. */
export function ownedLock(locks: LockManager, name: string): Lock | undefined {
  const held = heldRecordLock(locks, name)
  if (held) return held.lock
  return registry.flowLocks.getStore()?.find((entry) => entry.locks === locks && entry.name === name && entry.handle?.held)?.handle
}

/**
 * Mark the current async flow as the holder of the `lock()` about to be granted, and return the
 * entry to fill in with the handle.
 *
 * `lock()` returns a handle instead of running a callback, so there is no scope to run the rest of
 * the caller's work in. `enterWith` is what Node offers for that: called in the synchronous part of
 * `lock()`, it changes the context of the code that called `lock()` from that point on (the code
 * after `await repo.lock(...)`, and what it starts). It also reaches whatever else runs later in the
 * same synchronous stretch, e.g. the next branch of a `Promise.all` that started it: those count as
 * the holder too (documented). Entries count only while their handle is held.
 */
export function enterFlowLock(locks: LockManager, name: string): FlowLock {
  const entry: FlowLock = { locks, name, handle: undefined }
  // Copy, never mutate: a context captured earlier (a sibling flow) must not gain this lock. Drop
  // entries whose handle is gone, so a long-lived context does not accumulate them.
  const live = (registry.flowLocks.getStore() ?? []).filter((e) => e.handle === undefined || e.handle.held)
  registry.flowLocks.enterWith([...live, entry])
  return entry
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
