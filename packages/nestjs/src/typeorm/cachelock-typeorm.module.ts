import { LockManager } from '@cachelock/core'
import { installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { Module, type DynamicModule, type Provider } from '@nestjs/common'
import { TypeOrmModule, getDataSourcePrefix, getDataSourceToken } from '@nestjs/typeorm'
import type { DataSource, DataSourceOptions, EntityTarget, ObjectLiteral } from 'typeorm'
import { getLockableRepositoryToken, type EntityClassOrSchema } from './lockable-repository.token.js'

/** Options of `CachelockTypeOrmModule.forRoot()`. */
export interface CachelockTypeOrmOptions {
  /**
   * The data source to install row locks on: its name, or what `@nestjs/typeorm` takes.
   * @default the default data source
   */
  dataSource?: DataSource | DataSourceOptions | string
  /**
   * Throw `LockOrderError` on a nested row lock taken out of order (`installModelLocks`' option).
   * @default false
   */
  strictLockOrder?: boolean
}

type DataSourceRef = CachelockTypeOrmOptions['dataSource']

/** Provided once `installModelLocks` ran on a data source through `forRoot`. */
const installedToken = (dataSource: DataSourceRef) => `CachelockModelLocks:${getDataSourcePrefix(dataSource) || 'default'}`

/**
 * Row locks on the data sources `@nestjs/typeorm` makes, in the application's `LockManager`:
 *
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot({ ... }),
 *     CachelockModule.forRoot({ store: process.env.CACHELOCK_URL }),
 *     CachelockTypeOrmModule.forRoot({ strictLockOrder: process.env.NODE_ENV !== 'production' }),
 *   ],
 * })
 * export class AppModule {}
 *
 * @Module({ imports: [CachelockTypeOrmModule.forFeature([Product])], providers: [Shop] })
 * export class ShopModule {}
 * ```
 */
@Module({})
export class CachelockTypeOrmModule {
  /**
   * Install model locks (`installModelLocks`: the guarding subscriber, `@LockModel` checks) on the
   * data source, with the application's `LockManager`. Global. Optional when you only need
   * `forFeature`, which installs with the defaults where `forRoot` did not.
   */
  static forRoot(options: CachelockTypeOrmOptions = {}): DynamicModule {
    const { dataSource, strictLockOrder = false } = options
    const installed: Provider = {
      provide: installedToken(dataSource),
      useFactory: (source: DataSource, locks: LockManager) => installModelLocks(source, { locks, strictLockOrder }),
      inject: [getDataSourceToken(dataSource), LockManager],
    }
    return { module: CachelockTypeOrmModule, global: true, providers: [installed], exports: [installed] }
  }

  /**
   * `TypeOrmModule.forFeature(entities)` (so `@InjectRepository` and `autoLoadEntities` work as
   * usual), plus for each entity a repository with row locks, injected with
   * `@InjectLockableRepository(Entity)`.
   */
  static forFeature(entities: EntityClassOrSchema[], dataSource?: DataSourceRef): DynamicModule {
    const typeorm = TypeOrmModule.forFeature(entities, dataSource)
    const repositories: Provider[] = entities.map((entity) => ({
      provide: getLockableRepositoryToken(entity, dataSource),
      useFactory: (source: DataSource, locks: LockManager, installedByRoot: DataSource | undefined) => {
        if (!installedByRoot) installModelLocks(source, { locks })
        return source.getRepository(entity as EntityTarget<ObjectLiteral>).extend(lockableRepository)
      },
      inject: [getDataSourceToken(dataSource), LockManager, { token: installedToken(dataSource), optional: true }],
    }))
    return { module: CachelockTypeOrmModule, imports: [typeorm], providers: repositories, exports: [...repositories, typeorm] }
  }
}
