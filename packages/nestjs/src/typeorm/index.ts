export { CachelockTypeOrmModule } from './cachelock-typeorm.module.js'
export type { CachelockTypeOrmOptions } from './cachelock-typeorm.module.js'
export { InjectLockableRepository, getLockableRepositoryToken } from './lockable-repository.token.js'
export type { EntityClassOrSchema, RepositoryWithLocks } from './lockable-repository.token.js'
