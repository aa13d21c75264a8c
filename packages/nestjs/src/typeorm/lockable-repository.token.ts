import type { LockableRepository } from '@cachelock/typeorm'
import { Inject } from '@nestjs/common'
import { getRepositoryToken } from '@nestjs/typeorm'
import type { DataSource, DataSourceOptions, EntitySchema, ObjectLiteral, Repository } from 'typeorm'

/** An entity class or schema, as `TypeOrmModule.forFeature` takes it. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the type @nestjs/typeorm itself takes
export type EntityClassOrSchema = Function | EntitySchema

/** A TypeORM repository with the lock methods of `@cachelock/typeorm` (`withLock`, `lock`, `isLocked`). */
export type RepositoryWithLocks<Entity extends ObjectLiteral> = Repository<Entity> & LockableRepository

/** The injection token of an entity's lockable repository (`CachelockTypeOrmModule.forFeature`). */
export function getLockableRepositoryToken(entity: EntityClassOrSchema, dataSource?: DataSource | DataSourceOptions | string): string {
  const token = getRepositoryToken(entity, dataSource)
  return `${typeof token === 'function' ? token.name : token}WithLocks`
}

/**
 * Inject an entity's repository with row locks, provided by `CachelockTypeOrmModule.forFeature([Entity])`:
 *
 * ```ts
 * constructor(@InjectLockableRepository(Product) private readonly products: RepositoryWithLocks<Product>) {}
 * ```
 */
export function InjectLockableRepository(
  entity: EntityClassOrSchema,
  dataSource?: DataSource | DataSourceOptions | string,
): PropertyDecorator & ParameterDecorator {
  return Inject(getLockableRepositoryToken(entity, dataSource))
}
