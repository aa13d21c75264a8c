import { LockManager, MemoryStore, createLockManager, type LockStore } from '@cachelock/core'
// By name, not by path: the testing entry must share the main entry's module (and its token).
import { CACHELOCK_MODULE_OPTIONS, type CachelockModuleOptions } from '@cachelock/nestjs'

/** The part of `@nestjs/testing`'s `TestingModuleBuilder` that `overrideLockStore` uses. */
export interface OverridableTestingModule<Builder> {
  overrideProvider(token: unknown): { useFactory(options: { factory: (...args: any[]) => unknown; inject?: unknown[] }): Builder }
}

/**
 * Swap the store of `CachelockModule`'s manager for a fresh in-process `MemoryStore` (or the store
 * you pass) in a testing module: no Redis needed, nothing shared between test files, and every
 * other option (`prefix`, `ttl`, …) as the application configures it. No connection is opened for
 * the configured store.
 *
 * ```ts
 * const moduleRef = await overrideLockStore(Test.createTestingModule({ imports: [AppModule] })).compile()
 * ```
 */
export function overrideLockStore<Builder extends OverridableTestingModule<Builder>>(
  builder: Builder,
  store: LockStore = new MemoryStore(),
): Builder {
  return builder.overrideProvider(LockManager).useFactory({
    factory: (options: CachelockModuleOptions): LockManager => {
      const { store: _configured, shutdownTimeout: _shutdown, ...rest } = options
      return createLockManager({ ...rest, store })
    },
    inject: [CACHELOCK_MODULE_OPTIONS],
  })
}
