import { LockNotAcquiredError, type AcquireOptions } from '@cachelock/core'
import { recordLockClaimed, recordLockHandle, type RecordLockHandle } from '@cachelock/core/adapter-kit'
import type { ModelCall } from './extension-state.js'
import { resolveTarget } from './record-target.js'
import { isLockedInTransaction, noHandleInTransactionMode } from './transaction-locks.js'

/**
 * `db.model.lock(where, options)`: the record's lock as a `LockHandle` (the same name `withLock`
 * uses), for work that is not callback-shaped. Nothing is read or checked in the database. The
 * handle is a plain lock: no code counts as its holder except inside `handle.run(fn)`, where a
 * nested `withLock` on the record reuses it instead of waiting for it.
 */
export async function lockRecord(call: ModelCall, where: unknown, options: unknown): Promise<RecordLockHandle> {
  const { name } = resolveTarget(call.model, where, 'where')
  if (call.state.options.lockIn === 'transaction') throw noHandleInTransactionMode()
  const manager = call.state.options.manager()
  // A handle is a plain lock, not reentrant: asked for inside withLock on the same record (held, or
  // being taken by a nested call of this flow) it would wait for its own holder; say so instead.
  if (recordLockClaimed(manager, name)) {
    throw new LockNotAcquiredError(
      name,
      `Lock ${JSON.stringify(name)} is held by this flow (inside withLock): lock() is not reentrant and would wait for itself; use the lock withLock passes to fn`,
    )
  }
  return recordLockHandle(manager, await manager.acquire(name, options as AcquireOptions | undefined))
}

/**
 * `db.model.isLocked(where)`: whether anyone holds the record's lock right now (a snapshot). With
 * `lockIn: 'transaction'`, whether any transaction holds it (PostgreSQL's `pg_locks`).
 */
export async function isRecordLocked(call: ModelCall, where: unknown): Promise<boolean> {
  const { name } = resolveTarget(call.model, where, 'where')
  if (call.state.options.lockIn === 'transaction') return isLockedInTransaction(call.state, name)
  return call.state.options.manager().isLocked(name)
}
