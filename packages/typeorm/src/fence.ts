import { LockError, LockLostError, type Lock } from '@cachelock/core'
import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { ModelLock } from './row-key.js'

// A claim that matched nothing, yet found the row claimable when it looked: the row was created
// (or its fence lowered by hand) between the two statements. Claim again, a few times at most.
const CLAIM_ATTEMPTS = 3

/**
 * Fenced writes: the row remembers the fencing token of the newest holder that claimed it, and a
 * holder may only write while its token is not older. The claim is one statement, conditional and
 * setting at once:
 *
 *   UPDATE product SET lock_fence = :token WHERE <row> AND (lock_fence IS NULL OR lock_fence <= :token)
 *
 * `withLock` (and `lock()`) claim the row before anything reads it, and every write to the row
 * claims it again, in the write's own transaction, just before the write. So:
 * - once a newer holder has claimed the row, a stale holder's claim matches nothing and its write
 *   throws `LockLostError` (its transaction rolls back): every write the new holder reads after its
 *   claim is final, and a read-modify-write cannot lose an update to a holder that lost its lock;
 * - the claim's row lock (PostgreSQL, MySQL) or write lock (SQLite) is held until its transaction
 *   ends, so no newer holder's claim slips between a claim and the write after it, and a new
 *   holder's claim waits for a stale holder still in its transaction to commit or roll back.
 *
 * Resolves when the row is claimed or does not exist (nothing to protect: a check-then-create, whose
 * insert is stamped instead); rejects with `LockLostError` when a newer holder has claimed it.
 */
export async function claimFence(manager: EntityManager, model: ModelLock, where: ObjectLiteral, lock: Lock): Promise<void> {
  const fence = model.fence!
  const token = lock.fencingToken
  const column = manager.connection.driver.escape(fence.databaseName)
  for (let attempt = 1; ; attempt++) {
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
    // Nothing matched (or the driver does not count): the row is missing, or a newer holder has
    // claimed it. One read tells which.
    const current = await fenceOf(manager, model, where)
    if (current === undefined) return
    if (current > BigInt(token)) throw await overtaken(model, lock, current)
    // Already this grant's (a driver that does not count, or counts only changed rows): claimed.
    if (current === BigInt(token)) return
    if (attempt === CLAIM_ATTEMPTS)
      throw new LockError(
        `Could not claim the ${model.entity} row locked by ${JSON.stringify(lock.name)}: it kept changing under the claim`,
      )
  }
}

/** Stamp a row about to be inserted with the holder's token, so later stale holders are fenced off. */
export function stampFence(model: ModelLock, values: ObjectLiteral, lock: Lock): void {
  model.fence!.setEntityValue(values, lock.fencingToken)
}

/** The row's fence (a NULL fence reads as 0, as the claim treats it), or `undefined` when there is no row. */
export async function fenceOf(manager: EntityManager, model: ModelLock, where: ObjectLiteral): Promise<bigint | undefined> {
  // The primary key is selected too: TypeORM makes no entity of a row whose selected columns are all
  // NULL, and a NULL fence alone would read as a missing row.
  const select: Record<string, true> = { [model.fence!.propertyName]: true }
  for (const column of model.metadata.primaryColumns) select[column.propertyName] = true
  const row = await manager.findOne(model.metadata.target, { where, select, withDeleted: true })
  if (!row) return undefined
  const value: unknown = model.fence!.getEntityValue(row)
  return value === undefined || value === null ? 0n : BigInt(value as number | string | bigint)
}

/**
 * The row's fence is past this holder's token. Fencing tokens only grow, so a newer grant of the
 * lock has claimed the row: this holder lost its lock, whether it has heard yet or not (a steal in
 * another process is heard at the next renewal). The store says how it was lost.
 */
async function overtaken(model: ModelLock, lock: Lock, fence: bigint): Promise<Error> {
  const detail = `its ${model.fence!.propertyName} is ${fence}, past this holder's fencing token ${lock.fencingToken}`
  try {
    await lock.ensureHeld()
  } catch (lost) {
    if (!(lost instanceof LockLostError)) return lost as Error
    return new LockLostError(lock.name, lost.reason, {
      cause: lost,
      message:
        `Lock ${JSON.stringify(lock.name)} was lost (${lost.reason}): a newer holder has claimed this ${model.entity} row ` +
        `(${detail}), so nothing was written`,
    })
  }
  // Held, yet overtaken: the column was raised by something other than a newer grant of this lock.
  return new LockError(
    `This ${model.entity} row cannot be written under lock ${JSON.stringify(lock.name)}: ${detail}, although the lock is held. ` +
      'The column was written by something other than a newer holder of this lock (another lock store or prefix, another ' +
      'lock name for the same row, or by hand). Lock each row by one name on one store, and leave the column to the adapter.',
  )
}
