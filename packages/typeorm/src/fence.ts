import { LockLostError, type Lock } from '@cachelock/core'
import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { ModelLock } from './model-lock.js'

/**
 * Fenced writes: the row remembers the fencing token of the last holder that wrote it, and a holder
 * may only write while its token is not older.
 *
 * The claim is one statement, conditional and setting at once:
 *
 *   UPDATE product SET lock_fence = :token WHERE <row> AND (lock_fence IS NULL OR lock_fence <= :token)
 *
 * run in the write's own transaction just before the write. The claim's row lock (PostgreSQL,
 * MySQL) or write lock (SQLite) is then held until that transaction ends, so no newer holder can
 * slip its write between the claim and ours; and once a newer holder has claimed the row, ours
 * matches nothing and we throw `LockLostError`, which rolls the transaction back.
 */
export async function claimFence(manager: EntityManager, model: ModelLock, where: ObjectLiteral, lock: Lock): Promise<void> {
  const fence = model.fence!
  const token = lock.fencingToken
  const column = manager.connection.driver.escape(fence.databaseName)
  const result = await manager
    .createQueryBuilder()
    .update(model.metadata.target)
    .set({ [fence.propertyName]: token })
    .where(where)
    .andWhere(`(${column} IS NULL OR ${column} <= :cachelockFencingToken)`, { cachelockFencingToken: token })
    .callListeners(false)
    .updateEntity(false)
    .execute()
  if (result.affected !== undefined && result.affected > 0) return
  if (result.affected === undefined && (await fencedBy(manager, model, where)) === token) return
  // Nothing matched: either a newer holder has written the row (we lost the lock), or the row does
  // not exist (yet: a check-then-create; or any more), where there is nothing to protect.
  if ((await manager.count(model.metadata.target, { where })) === 0) return
  throw overtaken(model, lock)
}

/** Stamp a row about to be inserted with the holder's token, so later stale holders are fenced off. */
export function stampFence(model: ModelLock, values: ObjectLiteral, lock: Lock): void {
  model.fence!.setEntityValue(values, lock.fencingToken)
}

async function fencedBy(manager: EntityManager, model: ModelLock, where: ObjectLiteral): Promise<number | undefined> {
  const row = await manager.findOne(model.metadata.target, { where, select: { [model.fence!.propertyName]: true } })
  const value: unknown = row ? model.fence!.getEntityValue(row) : undefined
  return value === undefined || value === null ? undefined : Number(value)
}

function overtaken(model: ModelLock, lock: Lock): LockLostError {
  const lost = lock.signal.aborted ? (lock.signal.reason as LockLostError) : undefined
  return new LockLostError(lock.name, lost?.reason ?? 'expired', {
    cause: lost,
    message:
      `Lock ${JSON.stringify(lock.name)} was lost: a newer holder has written this ${model.entity} row ` +
      `(its fence is past this holder's fencing token ${lock.fencingToken}), so this write was rejected`,
  })
}
