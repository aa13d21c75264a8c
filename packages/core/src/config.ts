import { withEnvironmentStore } from './create-store.js'
import { LockManager } from './lock-manager.js'
import type { LockManagerOptions } from './options.js'
import { invalid } from './validate.js'

// The default manager lives on globalThis under a registered symbol, so every copy of this
// package in a process (an adapter that resolved its own copy, a CJS and an ESM consumer) shares
// one configuration.
const slot = Symbol.for('cachelock.defaultLockManager')
type WithDefault = typeof globalThis & { [slot]?: LockManager }

/**
 * Set the process-wide default manager that `@Locked`, the Prisma extension and the TypeORM helpers
 * use when they are not handed one. Pass options (`store` may be a URL) or a ready manager. Without
 * `store`, the store named by `CACHELOCK_URL`; without either, an in-process memory store that
 * fails every lock when `NODE_ENV` is `production` (and warns once elsewhere): give `store:
 * 'memory://'` to choose memory on purpose.
 *
 * ```ts
 * configure({ store: 'redis://localhost:6379', prefix: 'shop:lock:', ttl: 10_000 })
 * ```
 */
export function configure(options: LockManagerOptions | LockManager = {}): LockManager {
  const manager = isManager(options) ? options : new LockManager(withEnvironmentStore(options))
  ;(globalThis as WithDefault)[slot] = manager
  return manager
}

/**
 * The process-wide default manager: the one `configure()` set; else one on the store named by the
 * `CACHELOCK_URL` environment variable; else one on an in-process memory store, which fails every
 * lock when `NODE_ENV` is `production` (one process's memory excludes no other process) and warns
 * once elsewhere.
 */
export function defaultLockManager(): LockManager {
  const global = globalThis as WithDefault
  global[slot] ??= new LockManager(withEnvironmentStore({}))
  return global[slot]
}

/**
 * A `locks` option as adapters and the decorator take it: a manager, or unset for the default one.
 * Throws `InvalidLockArgumentError` naming `argument` for anything else.
 */
export function resolveLockManager(locks: unknown, argument: string): LockManager {
  if (locks === undefined) return defaultLockManager()
  if (!isManager(locks)) throw invalid(argument, 'a LockManager (from createLockManager())', locks)
  return locks
}

// Duck-typed so a manager made by another copy of this package is accepted too.
function isManager(value: unknown): value is LockManager {
  return (
    value instanceof LockManager ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as LockManager).request === 'function' &&
      typeof (value as LockManager).acquire === 'function')
  )
}
