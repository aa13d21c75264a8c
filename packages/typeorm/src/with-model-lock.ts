import { InvalidLockArgumentError, type Lock } from '@cachelock/core'
import { describeValue, invalidArgument, invalidShape } from '@cachelock/core/adapter-kit'
import type { DataSource, EntityManager, ObjectLiteral } from 'typeorm'
import { installedDataSources } from './install.js'
import { entityWhere, modelLockOf } from './row-key.js'
import type { WithLockOptions } from './options.js'
import type { Class } from './registry.js'
import { withRowLocks } from './row-locks.js'

/** Options of `withModelLock`: those of `withLock`, plus which data source the entity lives in. */
export interface WithModelLockOptions extends WithLockOptions {
  /**
   * The data source to read the row from and lock it in.
   * @default the one installed data source (`installModelLocks`) that has the instance's entity
   */
  dataSource?: DataSource
}

/**
 * `withLock` for an entity instance you already have: the row is named by the instance's lock
 * field(s) (its `@LockModel`, else its primary key), read fresh, and handed to `fn` with the
 * transaction's manager.
 *
 * ```ts
 * await withModelLock(product, async (fresh, manager) => { fresh.stock -= 1; await manager.save(fresh) })
 * ```
 */
// One signature, not one per `missing` value: a misspelt option is reported on the option.
export function withModelLock<Entity extends ObjectLiteral, T, M extends 'reject' | 'allow' = 'reject'>(
  instance: Entity,
  fn: (fresh: 'allow' extends M ? Entity | null : Entity, manager: EntityManager, lock: Lock) => T,
  options?: WithModelLockOptions & { missing?: M },
): Promise<Awaited<T>>
export async function withModelLock(instance: unknown, fn: unknown, options?: WithModelLockOptions): Promise<unknown> {
  if (typeof instance !== 'object' || instance === null || Array.isArray(instance))
    throw invalidArgument('instance', 'an entity instance', instance)
  const target = instance.constructor as Class
  if (typeof target !== 'function' || target === Object)
    throw invalidArgument('instance', 'an instance of an entity class (from find(), create() or new)', instance)
  const dataSource = options?.dataSource ?? findDataSource(target)
  if (!dataSource.hasMetadata(target))
    throw invalidArgument('options.dataSource', `a data source that has the entity ${target.name}`, dataSource)
  const model = modelLockOf(dataSource.getMetadata(target))
  const where = entityWhere(model, instance)
  if (!where) {
    const fields = model.fields.map((c) => c.propertyName).join(', ')
    const values = model.fields.map((c) => `${c.propertyName} = ${describeValue(c.getEntityValue(instance))}`).join(', ')
    throw invalidShape(
      'instance',
      `an entity with its lock field(s) (${fields}) set, to name its ${model.entity} row`,
      `an instance of ${target.name} with ${values}`,
    )
  }
  return withRowLocks({
    manager: dataSource.manager,
    target,
    inputs: [where],
    many: false,
    fn,
    options,
    argument: 'instance',
    extraOptions: ['dataSource'],
  })
}

function findDataSource(target: Class): DataSource {
  const candidates = installedDataSources().filter((dataSource) => dataSource.isInitialized && dataSource.hasMetadata(target))
  if (candidates.length === 1) return candidates[0]!
  const why =
    candidates.length === 0 ? 'no installed, initialized data source has it' : `${candidates.length} installed data sources have it`
  throw new InvalidLockArgumentError(
    'options.dataSource',
    `withModelLock cannot tell where ${target.name || 'this entity'} lives (${why}): pass { dataSource }`,
  )
}
