import type { Lock } from '@cachelock/core'
import type { EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm'
import { claimFence } from './fence.js'
import type { ModelLock } from './row-key.js'

/** A fenced row `withLock` holds: what to claim before a write to its table. */
export interface FenceClaim {
  readonly model: ModelLock
  readonly where: ObjectLiteral
  readonly lock: Lock
}

// Writes by criteria: the subscriber sees them without their rows (or not at all), so the manager
// handed to `fn` claims the locked rows of the table before running them.
const criteriaWrites = ['update', 'delete', 'softDelete', 'restore', 'increment', 'decrement', 'upsert'] as const

type Write = (this: EntityManager, target: EntityTarget<ObjectLiteral>, ...rest: unknown[]) => Promise<unknown>

/**
 * The manager `withLock` hands to `fn` when it holds fenced rows: the same manager (it inherits
 * everything from it), except that a write by criteria to a locked row's table first claims the
 * locked rows (see `claimFence`), in the write's transaction, or in one opened for the pair when
 * there is none (`transaction: false`). Entity writes (save, remove, …) are fenced by the
 * subscriber, whatever manager they go through.
 */
export function fencedManager(manager: EntityManager, claims: readonly FenceClaim[]): EntityManager {
  if (claims.length === 0) return manager
  const fenced = Object.create(manager) as EntityManager
  const claimsFor = (target: EntityTarget<ObjectLiteral>) => {
    const table = manager.connection.getMetadata(target).tablePath
    return claims.filter((claim) => claim.model.metadata.tablePath === table)
  }
  for (const method of criteriaWrites) {
    const original = Reflect.get(manager, method) as Write
    const write: Write = async function (target, ...rest) {
      const mine = claimsFor(target)
      if (mine.length === 0) return original.call(fenced, target, ...rest)
      if (manager.queryRunner?.isTransactionActive) {
        for (const claim of mine) await claimFence(manager, claim.model, claim.where, claim.lock)
        return original.call(fenced, target, ...rest)
      }
      return manager.transaction(async (tx) => {
        for (const claim of mine) await claimFence(tx, claim.model, claim.where, claim.lock)
        return original.call(tx, target, ...rest)
      })
    }
    Object.defineProperty(fenced, method, { value: write, configurable: true, writable: true })
  }
  // TypeORM caches repositories per manager, bound to it; hand out ones bound to this manager so
  // `m.getRepository(Product).update(…)` is fenced too.
  const repositories = new Map<unknown, Repository<ObjectLiteral>>()
  Object.defineProperty(fenced, 'getRepository', {
    configurable: true,
    writable: true,
    value: (target: EntityTarget<ObjectLiteral>) => {
      let repository = repositories.get(target)
      if (!repository) {
        const base = manager.getRepository(target)
        repositories.set(target, (repository = Object.create(base, { manager: { value: fenced } }) as Repository<ObjectLiteral>))
      }
      return repository
    },
  })
  return fenced
}
