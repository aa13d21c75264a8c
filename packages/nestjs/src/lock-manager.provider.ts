import { createLockManager, type LockManager } from '@cachelock/core'
import { invalidArgument } from '@cachelock/core/adapter-kit'
import { Logger } from '@nestjs/common'
import type { CachelockModuleOptions } from './options.js'

const logger = new Logger('Cachelock')
const MAX_TIMER_MS = 2_147_483_647

/**
 * The module's `LockManager`, made from its options: `store` (a store or a URL; unset, the store of
 * `CACHELOCK_URL`), and every other `createLockManager()` option, checked there.
 */
export function createModuleLockManager(options: CachelockModuleOptions): LockManager {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an options object', options)
  const { shutdownTimeout, ...managerOptions } = options
  checkShutdownTimeout(shutdownTimeout)
  const store = managerOptions.store ?? (process.env.CACHELOCK_URL || undefined)
  if (store === undefined) {
    if (process.env.NODE_ENV === 'production') {
      throw invalidArgument(
        'options.store',
        'a store or a store URL (set `store` in CachelockModule.forRoot(), or CACHELOCK_URL): with NODE_ENV=production an in-process store would not exclude other instances',
        store,
      )
    }
    logger.warn(
      'No lock store configured (`store` or CACHELOCK_URL): using an in-process MemoryStore, which does not exclude other processes',
    )
  }
  return createLockManager({ ...managerOptions, store })
}

export function checkShutdownTimeout(value: unknown): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw invalidArgument('options.shutdownTimeout', `a finite number of milliseconds >= 0 and <= ${MAX_TIMER_MS}`, value)
  }
}
