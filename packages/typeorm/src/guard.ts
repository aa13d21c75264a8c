import { resolveLockManager } from '@cachelock/core'
import type { EntityManager, EntityMetadata, ObjectLiteral } from 'typeorm'
import { LockedRowError, type GuardedOperation } from './errors.js'
import { checkLoadedFence } from './loaded-fence.js'
import { claimFence, stampFence } from './fence.js'
import { entityWhere, lockName, modelLockOf } from './model-lock.js'
import { ownedLock } from './owned-locks.js'
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
 * - held by this flow: allowed; on a fenced model the write is fenced (insert: stamped with the
 *   token; otherwise the row is claimed, see `claimFence`). Held by this flow but lost meanwhile:
 *   `LockLostError`, so work done under a lost lock does not go through.
 * - held by anyone else: `LockedRowError` (unless the model opted out with `guard: false`).
 * - free: allowed; on a fenced model, only if the row's fence has not moved since the entity was
 *   loaded (see `checkLoadedFence`).
 *
 * It is a check-then-write: a lock taken elsewhere between the check and the write is not seen.
 * Fencing closes that gap for fenced models.
 */
export async function guardWrite(installation: Installation, write: GuardedWrite): Promise<void> {
  const model = modelLockOf(write.metadata)
  if (!model.decorated) return
  const wheres = [entityWhere(model, write.entity), entityWhere(model, write.databaseEntity)].filter((w) => w !== undefined)
  const names = [...new Set(wheres.map((where) => lockName(model, where, 'entity')))]
  const locks = resolveLockManager(installation.locks, 'options.locks')
  let held = false
  for (const name of names) {
    const mine = ownedLock(locks, name)
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
    if (model.guard && (await locks.isLocked(name))) throw new LockedRowError(name, model.entity, write.operation)
  }
  if (!held && model.fence && write.operation !== 'insert') await checkLoadedFence(write, model)
}
