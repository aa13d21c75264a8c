import { StaleEntityError } from './errors.js'
import { fenceOf } from './fence.js'
import type { GuardedWrite } from './guard.js'
import { entityWhere, lockName, type ModelLock } from './row-key.js'

/**
 * An entity write (save, remove, soft-remove, recover) of a fenced entity by a flow that does not
 * hold the row's lock, checked optimistic-concurrency style against the fence value the entity was
 * loaded with. Every holder raises the fence to its own, newer, token before it reads the row, so
 * a fence that moved since the entity was loaded means a holder has written (or may yet write) the
 * row in between, and this write, computed from the row as it was, would overwrite that work.
 *
 * The check is one statement in the write's own transaction, a no-op update conditional on the
 * loaded value:
 *
 *   UPDATE product SET lock_fence = lock_fence WHERE <primary key> AND lock_fence = :loaded
 *
 * Its row lock (PostgreSQL, MySQL) or write lock (SQLite) is held until the write commits, so no
 * holder's claim lands between this check and the write; a holder's claim still open in its
 * transaction makes it wait, then fail. Matching nothing, the write is refused with
 * `StaleEntityError` (a row that no longer exists is left to TypeORM).
 *
 * An entity without its fence value (loaded with a `select` that leaves it out, or made with
 * `create()` from plain values) carries nothing to check against, and is written as before.
 */
export async function checkLoadedFence(write: GuardedWrite, model: ModelLock): Promise<void> {
  const fence = model.fence!
  const loaded = write.entity ? asBigInt(fence.getEntityValue(write.entity)) : undefined
  if (loaded === undefined) return
  const id = write.metadata.getEntityIdMap(write.databaseEntity ?? write.entity)
  if (!id) return
  const column = write.manager.connection.driver.escape(fence.databaseName)
  const result = await write.manager
    .createQueryBuilder()
    .update(model.metadata.target)
    .set({ [fence.propertyName]: () => column })
    .where(id)
    .andWhere(`${column} = :cachelockLoadedFence`, { cachelockLoadedFence: loaded.toString() })
    .callListeners(false)
    .updateEntity(false)
    .execute()
  if (result.affected !== undefined && result.affected > 0) return
  const current = await fenceOf(write.manager, model, id)
  if (current === undefined || current === loaded) return
  const where = entityWhere(model, write.databaseEntity ?? write.entity)
  throw new StaleEntityError(where ? lockName(model, where, 'entity') : model.model, model.entity, write.operation, loaded, current)
}

function asBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value
  if ((typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value)))
    return BigInt(value)
  return undefined
}
