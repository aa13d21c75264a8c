import { describeName, storeError } from './errors.js'
import { channels } from './events.js'
import type { Lease } from './lease.js'
import { LockHandle } from './lock-handle.js'
import { Lock } from './lock.js'
import { GrantOrder } from './grant-order.js'
import { registerInternals } from './manager-internals.js'
import { snapshot, storeHolders, type LockManagerSnapshot } from './manager-snapshot.js'
import { NameQueues } from './name-queues.js'
import { notAcquired, waitInQueue, type Unavailable } from './pending-request.js'
import { observeRequest, type RequestOrigin } from './request-outcome.js'
import type { AcquireOptions, LockManagerOptions, LockOptions } from './options.js'
import { resolveManagerOptions, resolveRequestOptions, type ManagerDefaults, type ResolvedRequest } from './resolve-options.js'
import { RenewalBatch } from './renewal-batch.js'
import { StoreDeadline } from './store-deadline.js'
import { answersAtOnce } from './settled-stores.js'
import { Steals } from './steal.js'
import type { LockStore } from './store.js'
import { newClientId } from './tokens.js'
import { checkFunction, checkName, invalid } from './validate.js'

/**
 * Distributed locks with the W3C Web Locks API (`navigator.locks`) over a `LockStore`.
 *
 * ```ts
 * const locks = createLockManager({ store: new RedisStore(redis) })
 * await locks.request('invoice:42', async (lock) => { ... })
 * ```
 *
 * Web Locks semantics are kept: the callback's promise holds the lock, requests for a name are
 * granted in request order within a manager, shared locks together and exclusive alone,
 * `ifAvailable` calls back with `null`, `signal` aborts a wait, `steal` takes the lock over. The
 * lock itself is not reentrant: requesting a name you hold from inside its callback waits (or gets
 * `null` with `ifAvailable`).
 */
export class LockManager {
  /** This manager's id, reported by `query()` and in events. */
  readonly clientId = newClientId()
  readonly store: LockStore
  /** Prepended to every name to form the store key. */
  readonly prefix: string
  /** Longest pause between attempts while waiting, in ms. */
  readonly sleep: number
  /** Longest time one store call may take, in ms. */
  readonly storeTimeout: number
  readonly #defaults: ManagerDefaults
  readonly #queues: NameQueues
  readonly #deadline: StoreDeadline
  readonly #steals: Steals
  // Holds leases, never handles: a handle must stay collectable for its finalizer to run.
  readonly #finalizers = new FinalizationRegistry<Lease>((lease) => lease.finalize())

  constructor(options?: LockManagerOptions) {
    const resolved = resolveManagerOptions(options, 'options')
    this.store = resolved.store
    this.prefix = resolved.prefix
    this.sleep = resolved.sleep
    this.storeTimeout = resolved.storeTimeout
    this.#defaults = resolved
    this.#deadline = new StoreDeadline(resolved.storeTimeout, answersAtOnce(this.store))
    this.#queues = new NameQueues(
      {
        store: this.store,
        deadline: this.#deadline,
        order: new GrantOrder(),
        renewals: new RenewalBatch(this.store, this.#deadline),
        clientId: this.clientId,
        sleep: this.sleep,
      },
      (name) => this.keyFor(name),
    )
    this.#steals = new Steals({
      store: this.store,
      deadline: this.#deadline,
      clientId: this.clientId,
      queue: (name) => this.#queues.of(name),
    })
    registerInternals(this, {
      idle: (name) => this.#queues.get(name)?.isIdle() ?? true,
      acquire: (name, options, onWait) => this.#acquire(name, options, false, 'reject', onWait) as Promise<LockHandle>,
    })
  }

  /**
   * Web Locks `request()`: wait for the lock, call `callback` with it, hold it until the promise
   * `callback` returns settles, release it, and resolve or reject with `callback`'s outcome.
   * With `ifAvailable`, `callback` gets `null` when the lock is taken.
   */
  request<T>(name: string, callback: (lock: Lock) => T): Promise<Awaited<T>>
  // One signature with options, not one per `ifAvailable` value: a misspelt option is then
  // reported on the option, not as a failed overload on `request`. `callback` may get `null`
  // exactly when `ifAvailable` may be true.
  request<T, IfAvailable extends boolean | undefined = undefined>(
    name: string,
    options: LockOptions & { ifAvailable?: IfAvailable },
    callback: (lock: true extends IfAvailable ? Lock | null : Lock) => T,
  ): Promise<Awaited<T>>
  request<T>(name: string, ...rest: unknown[]): Promise<Awaited<T>> {
    const [options, callback] = rest.length >= 2 ? rest : [undefined, rest[0]]
    let resolved: ResolvedRequest
    let fn: (lock: Lock | null) => T
    try {
      checkName(name)
      resolved = resolveRequestOptions(options as LockOptions | undefined, 'options', this.#defaults, false)
      fn = checkFunction(callback, 'callback')
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#run(name, resolved, fn, 'null')
  }

  /**
   * `request()` for code that just wants its result: always exclusive unless `mode` says
   * otherwise; gives up with `LockNotAcquiredError` instead of calling back with `null`.
   */
  withLock<T>(name: string, fn: (lock: Lock) => T, options?: LockOptions): Promise<Awaited<T>> {
    let resolved: ResolvedRequest
    try {
      checkName(name)
      checkFunction(fn, 'fn')
      resolved = resolveRequestOptions(options, 'options', this.#defaults, false)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#run(name, resolved, fn as (lock: Lock | null) => T, 'reject')
  }

  /**
   * Take the lock and hold it until you release the handle (or leave an `await using` block).
   * Rejects with `LockNotAcquiredError` when `timeout` runs out or `ifAvailable` finds it taken.
   */
  acquire(name: string, options?: AcquireOptions): Promise<LockHandle> {
    return this.#acquire(name, options, false, 'reject') as Promise<LockHandle>
  }

  /** Take the lock if nobody holds it, without waiting; `null` when taken (PyYADL's `acquire(blocking=False)`). */
  tryAcquire(name: string, options?: Omit<AcquireOptions, 'ifAvailable' | 'timeout' | 'signal' | 'steal'>): Promise<LockHandle | null> {
    return this.#acquire(name, options, true, 'null')
  }

  /**
   * Snapshot of the names this manager holds or waits for: its own held and pending requests
   * (exact), and the other managers' holders and waiters of those names as the store reports them
   * (waiters only from a store with `waiters`).
   */
  query(): Promise<LockManagerSnapshot> {
    return snapshot({ queues: this.#queues, store: this.store, deadline: this.#deadline, clientId: this.clientId })
  }

  /** Whether anyone (any client) holds `name` right now. A snapshot: it may change a moment later. */
  async isLocked(name: string): Promise<boolean> {
    checkName(name)
    return (await storeHolders({ store: this.store, deadline: this.#deadline }, name, this.keyFor(name))).length > 0
  }

  /** Release `name` whoever holds it. Holders in this manager see their `signal` abort at once, others at their next renewal. */
  async forceRelease(name: string): Promise<boolean> {
    checkName(name)
    let released: boolean
    try {
      released = await this.#deadline.bound('force-release', name, () => this.store.forceRelease(this.keyFor(name)), { keepAlive: true })
    } catch (cause) {
      throw storeError('force-release', name, cause)
    }
    for (const lease of this.#queues.get(name)?.held ?? []) lease.markLost('force-released')
    return released
  }

  /** The store key for `name`: `prefix + name`. */
  keyFor(name: string): string {
    return this.prefix + name
  }

  /** Close what the store opened itself (e.g. the connection `createStore(url)` made). */
  async close(): Promise<void> {
    await this.store.close?.()
  }

  async #acquire(
    name: string,
    options: AcquireOptions | undefined,
    ifAvailable: boolean,
    unavailable: Unavailable,
    onWait?: () => void,
  ): Promise<LockHandle | null> {
    checkName(name)
    // tryAcquire is acquire with ifAvailable: validated as such, so `steal` is refused with it.
    const checked = resolveRequestOptions(
      ifAvailable ? { ...checkIsObject(options), ifAvailable: true } : options,
      'options',
      this.#defaults,
      true,
    )
    // A copy: the options of a call without any are shared (and frozen).
    const resolved = onWait ? { ...checked, onWait } : checked
    const lease = await this.#observed(name, resolved, unavailable)
    if (!lease) return null
    const handle = new LockHandle(lease)
    if (resolved.releaseOnFinalize) {
      lease.attachHandle(handle)
      this.#finalizers.register(handle, lease)
    }
    return handle
  }

  #run<T>(name: string, options: ResolvedRequest, callback: (lock: Lock | null) => T, unavailable: Unavailable): Promise<Awaited<T>> {
    // One promise for the whole request, which a steal can reject before the callback settles.
    return new Promise<Awaited<T>>((resolve, reject) => {
      this.#observed(name, options, unavailable).then((lease) => {
        if (lease) {
          // Web Locks: a stolen lock's request rejects at once with an AbortError, although its
          // callback keeps running; the lock's signal has aborted with the LockLostError to say so.
          lease.onLost((error) => {
            if (error.reason === 'stolen')
              reject(new DOMException(`Lock ${describeName(name)} was stolen`, { name: 'AbortError', cause: error }))
          })
        }
        let outcome: T
        try {
          outcome = callback(lease ? new Lock(lease) : null)
        } catch (error) {
          outcome = Promise.reject(error) as T
        }
        Promise.resolve(outcome).then(
          (value) => {
            // The callback's result is the outcome, also when the store then fails the release: its
            // work is done, and a caller that retries on a store error would do it twice. The
            // failure is on the `released` channel, and the ttl frees the lock.
            if (!lease) resolve(value)
            else
              lease.releaseThen(
                () => resolve(value),
                () => resolve(value),
              )
          },
          (error: unknown) => {
            // The callback's failure is the outcome; a release failure is on the `released`
            // channel and the ttl frees the lock.
            if (!lease) reject(error)
            else
              lease.releaseThen(
                () => reject(error),
                () => reject(error),
              )
          },
        )
      }, reject)
    })
  }

  /** `#obtain`, observed for the `not-acquired` channel when it has a listener (the origin is made only then). */
  #observed(name: string, options: ResolvedRequest, unavailable: Unavailable): Promise<Lease | null> {
    const obtained = this.#obtain(name, options, unavailable)
    return channels.notAcquired.hasSubscribers ? observeRequest(obtained, this.#origin(name), options) : obtained
  }

  /**
   * The one way into a lock: validated options in, a lease (or `null`) out. Enqueues
   * synchronously, so `query()` shows the request as soon as the public call returns, and an abort
   * right after the call wins over a grant.
   */
  #obtain(name: string, options: ResolvedRequest, unavailable: Unavailable): Promise<Lease | null> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    const queue = this.#queues.of(name)
    if (options.steal) return this.#steals.steal(name, options)
    const once = options.ifAvailable || options.timeout === 0
    const giveUp = () => (unavailable === 'null' ? null : Promise.reject(notAcquired(name, options.timeout)))
    // Behind this manager's own requests: unavailable. Said once their attempts out now are
    // answered, so whoever hears it can find those requests in the store (`query()` from another
    // manager lists them as pending), as a browser's single lock manager would have them.
    if (once && !queue.available(options.mode)) return queue.settled().then(giveUp)

    return waitInQueue(queue, name, options, once, unavailable)
  }

  #origin(name: string): RequestOrigin {
    return { name, key: this.keyFor(name), clientId: this.clientId }
  }
}

/** Make a `LockManager`. Every option has a default: with none, locks live in this process's memory. */
export function createLockManager(options?: LockManagerOptions): LockManager {
  return new LockManager(options)
}

function checkIsObject(options: unknown): object {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid('options', 'an options object', options)
  return options
}
