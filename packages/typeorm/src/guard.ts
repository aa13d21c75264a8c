import { LockError, type LockManager } from '@cachelock/core'
import { resolveLockManager } from '@cachelock/core/adapter-kit'
import type { EntityManager, EntityMetadata, ObjectLiteral } from 'typeorm'
import { LockedRowError, type GuardedOperation } from './errors.js'
import { checkLoadedFence } from './loaded-fence.js'
import { claimFence, stampFence } from './fence.js'
import { DEFAULT_GUARD_TIMEOUT } from './options.js'
import { entityWhere, lockName, modelLockOf } from './row-key.js'
import { ownedLock } from './owned-locks.js'
import { lockedByOthers, transactionHeldLock } from './transaction-row-locks.js'
import type { Installation } from './registry.js'

/** One entity write, as the subscriber sees it. */
export interface GuardedWrite {
  operation: GuardedOperation
  metadata: EntityMetadata
  /** The entity being written (for an insert: the values being inserted). */
  entity: ObjectLiteral | undefined
  /** The row as loaded before the write (update, remove, soft-remove, recover). */
  databaseEntity: ObjectLiteral | undefined
  /** The manager of the write's own query runner (and transaction). */
  manager: EntityManager
}

/**
 * Check one entity write of a `@LockModel` entity against the row's lock, before it reaches the
 * database:
 * - held by the writer (see `ownedLock`: a `withLock`/`run` scope of this flow, or a lock bound to
 *   the write's transaction): allowed; on a fenced model the write is fenced (insert: stamped with
 *   the token; otherwise the row is claimed, see `claimFence`). Held by the writer but lost
 *   meanwhile: `LockLostError`, so work done under a lost lock does not go through.
 * - held by anyone else: `LockedRowError` (unless the model opted out with `guard: false`).
 * - free: allowed; on a fenced model, only if the row's fence has not moved since the entity was
 *   loaded (see `checkLoadedFence`).
 * - unknown (the store failed, or did not answer within `guardTimeout`): refused with a `LockError`
 *   (`LOCK_STORE_ERROR`, the store's error as `cause`). Fail closed: a write the guard cannot check
 *   might overwrite a holder's work.
 *
 * It is a check-then-write: a lock taken elsewhere between the check and the write is not seen.
 * Fencing closes that gap for fenced models.
 */
export async function guardWrite(installation: Installation, write: GuardedWrite): Promise<void> {
  const model = modelLockOf(write.metadata)
  if (!model.decorated) return
  const wheres = [entityWhere(model, write.entity), entityWhere(model, write.databaseEntity)].filter((w) => w !== undefined)
  const names = [...new Set(wheres.map((where) => lockName(model, where, 'entity')))]
  // lockIn: 'transaction': the writer's locks are its transaction's, and another's show in pg_locks.
  const inTransaction = installation.lockIn === 'transaction'
  const locks = inTransaction ? undefined : resolveLockManager(installation.locks, 'options.locks')
  let held = false
  const others: string[] = []
  for (const name of names) {
    const mine = locks ? ownedLock(locks, name, write.manager.queryRunner) : transactionHeldLock(write.manager.queryRunner, name)
    if (mine) {
      held = true
      if (mine.signal.aborted) throw mine.signal.reason
      if (!model.fence) continue
      if (write.operation === 'insert') {
        if (write.entity) stampFence(model, write.entity, mine)
        continue
      }
      // Claim by primary key: the row the write targets, even if the lock field itself changes.
      const id = write.metadata.getEntityIdMap(write.databaseEntity ?? write.entity)
      if (id) await claimFence(write.manager, model, id, mine)
      if (write.entity) stampFence(model, write.entity, mine)
      continue
    }
    if (model.guard) others.push(name)
  }
  if (others.length > 0 && locks)
    await refuseIfLocked(locks, others, model.entity, write.operation, installation.guardTimeout ?? DEFAULT_GUARD_TIMEOUT)
  if (others.length > 0 && !locks) {
    const at = (await lockedByOthers(write.manager, others)).indexOf(true)
    if (at !== -1) throw new LockedRowError(others[at]!, model.entity, write.operation)
  }
  if (!held && model.fence && write.operation !== 'insert') await checkLoadedFence(write, model)
}

/**
 * Ask the store whether any of `names` is held, within `timeoutMs`. TypeORM runs entity
 * subscribers inside the save's transaction, on a connection it already holds (the entity loading
 * and `BEGIN` come first, and no subscriber event fires before them with the entity), so a store
 * that hangs here would pin a pool connection and an open transaction: the deadline bounds that.
 */
async function refuseIfLocked(locks: LockManager, names: string[], entity: string, operation: GuardedOperation, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined
  // Not unref'd: it settles the write the caller awaits.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DOMException(`The lock store did not answer within ${timeoutMs} ms (guardTimeout)`, 'TimeoutError')),
      timeoutMs,
    )
  })
  let locked: boolean[]
  try {
    locked = await Promise.race([Promise.all(names.map((name) => locks.isLocked(name))), deadline])
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    throw new LockError(
      `Cannot ${operation} ${entity}: the guard could not check lock ${JSON.stringify(names[0])} (${detail}). Nothing was written; ` +
        'a write the guard cannot check is refused (it might overwrite a holder’s work).',
      { cause, code: 'LOCK_STORE_ERROR' },
    )
  } finally {
    clearTimeout(timer)
  }
  const at = locked.indexOf(true)
  if (at !== -1) throw new LockedRowError(names[at]!, entity, operation)
}
