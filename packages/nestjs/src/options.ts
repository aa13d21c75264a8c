import type { LockManagerOptions } from '@cachelock/core'

/**
 * Options of `CachelockModule.forRoot()` / `forRootAsync()`: the lock manager's options (every
 * option of `createLockManager()`), and how the module shuts down.
 */
export interface CachelockModuleOptions extends LockManagerOptions {
  /**
   * Where locks live: a store, or a store URL. A store the module makes from a URL is the
   * module's: its connection is closed at application shutdown. A store you pass keeps the client
   * you gave it open (only the connections the store opened itself, such as Redis's subscriber,
   * are closed).
   * @default the store named by the `CACHELOCK_URL` environment variable; else, outside
   * production, an in-process `MemoryStore` (with a warning). With `NODE_ENV=production` and
   * neither set, the application fails to start.
   * @example 'redis://localhost:6379'
   * @example new RedisStore(redis)
   */
  store?: LockManagerOptions['store']
  /**
   * At application shutdown, how long to wait, in ms, for the locks this application holds (and
   * its queued requests) to be released before the store is closed. Locks still held then are
   * left to expire within their `ttl`; their holders see `signal` abort with `LockLostError`.
   * @default 10000
   */
  shutdownTimeout?: number
}

/** Extra options of `forRoot()` / `forRootAsync()` that shape the module rather than the manager. */
export interface CachelockModuleExtras {
  /**
   * Register the module globally, so every module can inject the `LockManager` (and use
   * `@WithLock`) without importing it.
   * @default true
   */
  isGlobal?: boolean
}

export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000
