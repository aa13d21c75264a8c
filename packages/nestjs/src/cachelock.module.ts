import { LockManager } from '@cachelock/core'
import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common'
import { drainLocks } from './drain.js'
import { describeError } from './describe-error.js'
import { createModuleLockManager } from './lock-manager.provider.js'
import { CACHELOCK_MODULE_OPTIONS, ConfigurableCachelockModule } from './module-definition.js'
import { DEFAULT_SHUTDOWN_TIMEOUT, type CachelockModuleOptions } from './options.js'

/**
 * Provides one `LockManager` to the whole application (global unless `isGlobal: false`), which
 * `@InjectLocks()`, `@WithLock` and the TypeORM integration use:
 *
 * ```ts
 * @Module({ imports: [CachelockModule.forRoot({ store: process.env.CACHELOCK_URL, prefix: 'shop:lock:' })] })
 * export class AppModule {}
 * ```
 *
 * At application shutdown (`app.close()`, or a signal with `app.enableShutdownHooks()`), after the
 * HTTP server has stopped, it waits up to `shutdownTimeout` for held locks to be released, then
 * closes the store (and the connection it opened from a URL).
 */
@Module({
  providers: [{ provide: LockManager, useFactory: createModuleLockManager, inject: [CACHELOCK_MODULE_OPTIONS] }],
  exports: [LockManager],
})
export class CachelockModule extends ConfigurableCachelockModule implements OnApplicationShutdown {
  readonly #logger = new Logger('Cachelock')

  constructor(
    @Inject(LockManager) private readonly locks: LockManager,
    @Inject(CACHELOCK_MODULE_OPTIONS) private readonly options: CachelockModuleOptions,
  ) {
    super()
  }

  async onApplicationShutdown(): Promise<void> {
    const timeout = this.options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT
    const { drained, busy, error } = await drainLocks(this.locks, timeout)
    if (error !== undefined) {
      this.#logger.warn(`Could not ask the lock store which locks are still held (${describeError(error)}); closing it`)
    } else if (!drained) {
      const names = [...new Set(busy)].map((name) => JSON.stringify(name)).join(', ')
      this.#logger.warn(
        `Closing the lock store after ${timeout} ms with locks still held or awaited: ${names}. They expire within their ttl.`,
      )
    }
    await this.locks.close()
  }
}
