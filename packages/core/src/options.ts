import type { LockMode, LockStore } from './store.js'

/** Options of one lock request. Every one of them can also be set on the manager as a default. */
export interface LockOptions {
  /**
   * `exclusive` (one holder, a write lock) or `shared` (many holders, a read lock; an exclusive
   * request waits for every shared holder and vice versa).
   * @default 'exclusive'
   */
  mode?: LockMode
  /**
   * Do not wait: when the lock is taken, `request()` calls back with `null`, `acquire()` and
   * `withLock()` reject with `LockNotAcquiredError`.
   * @default false
   */
  ifAvailable?: boolean
  /**
   * Take the lock whoever holds it. The previous holder's `signal` aborts with `LockLostError`:
   * at once in this process (`reason: 'stolen'`), at its next renewal elsewhere (`reason:
   * 'expired'`: the store only tells it the lock is no longer its own). Exclusive only. Comes after
   * this manager's store attempts for the name that are out, and after its earlier steals.
   * @default false
   */
  steal?: boolean
  /**
   * Abort the wait. A request still waiting when the signal aborts rejects with the signal's
   * reason (an `AbortSignal.timeout()` rejects with its `TimeoutError`). Has no effect once granted.
   * @example { signal: AbortSignal.timeout(5000) }
   */
  signal?: AbortSignal
  /**
   * Stop waiting after this many ms and reject with `LockNotAcquiredError`. `0` tries once.
   * Unset waits until granted (as Web Locks do). Store failures do not end the wait early: the
   * request retries until the timeout, and if the store was failing then (or never answered), it
   * rejects with the store's `LockError` (`LOCK_STORE_ERROR`) instead. Without a timeout, the
   * first store failure rejects the request.
   * @default undefined
   */
  timeout?: number
  /**
   * How long the store keeps the lock if its holder vanishes (crash, kill, partition), in ms.
   * With `autoExtend` the lock lives as long as the holder does; without it, exactly this long.
   * @default 30000
   */
  ttl?: number
  /**
   * Renew the lock every `ttl / 3` while it is held, so long work keeps it and a crashed holder's
   * lock expires within `ttl`. A renewal that finds the lock gone aborts `signal`.
   * @default true
   */
  autoExtend?: boolean
}

/** Options of `acquire()`: a request's options plus what only a handle needs. */
export interface AcquireOptions extends LockOptions {
  /**
   * Release the lock when its `LockHandle` is garbage-collected while still held (and stop
   * renewing it once the handle is unreachable). Finalizers are not guaranteed to run: `ttl`
   * remains the safety net.
   * @default true
   */
  releaseOnFinalize?: boolean
}

/** Options of `createLockManager()` / `configure()`. */
export interface LockManagerOptions extends Omit<AcquireOptions, 'signal' | 'steal' | 'ifAvailable' | 'mode'> {
  /**
   * Where locks live: a store, or a store URL (see `createStore`). Choose one every process of the
   * app shares. Unset, locks are held in this process's memory: every lock then fails when
   * `NODE_ENV` is `production`, and the first one warns elsewhere (`'memory://'` chooses memory on
   * purpose, silently).
   * @default in-process memory (for `configure()` and the default manager: the store of `CACHELOCK_URL` when set)
   * @example new RedisStore(redis)
   * @example 'memcached://cache1:11211,cache2:11211'
   */
  store?: LockStore | string
  /**
   * Prepended to every lock name to make the store key.
   * @default 'lock:'
   * @example 'orders-service:lock:'
   */
  prefix?: string
  /**
   * Longest time one store call may take, in ms: acquire, release, extend, steal, force release,
   * and the reads behind `query()` and `isLocked()`. A call still unanswered then (a frozen
   * server, a client queueing commands while it reconnects) fails with `LockError`
   * (`LOCK_STORE_ERROR`, a `StoreTimeoutError` as `cause`); a grant that arrives later is released.
   * During an outage this is how long a request without `timeout` can take to fail; a request with
   * a `timeout` keeps retrying until that runs out instead. Renewal is bounded by it too, and keeps
   * retrying until the lock's ttl has passed.
   * @default 2000
   */
  storeTimeout?: number
  /**
   * Longest pause between two attempts while waiting, in ms (each pause is jittered between
   * half of it and all of it). Stores with wake-ups (Redis, memory) retry as soon as the lock is
   * released; `sleep` bounds the wait when a wake-up is missed.
   * @default 100
   */
  sleep?: number
}
