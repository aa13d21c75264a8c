import { LockNotAcquiredError, storeError } from './errors.js'
import { publish } from './events.js'
import type { Lease } from './lease.js'
import { LockHandle } from './lock-handle.js'
import { Lock } from './lock.js'
import { NameQueue, type PendingRequest, type QueueHost } from './name-queue.js'
import { observeRequest, type RequestOrigin } from './request-outcome.js'
import type { AcquireOptions, LockManagerOptions, LockOptions } from './options.js'
import { resolveManagerOptions, resolveRequestOptions, type ManagerDefaults, type ResolvedRequest } from './resolve-options.js'
import type { LockMode, LockStore } from './store.js'
import { clientIdOf, newClientId, newOwnerToken } from './tokens.js'
import { checkFunction, checkName, invalid } from './validate.js'

/** One entry of `query()`. */
export interface LockInfo {
  name: string
  mode: LockMode
  /** The manager holding or requesting it (`LockManager.clientId`). */
  clientId: string
}

/** What `query()` returns: a snapshot, possibly stale a moment later. */
export interface LockManagerSnapshot {
  held: LockInfo[]
  pending: LockInfo[]
}

/** Give up with `null` (Web Locks `ifAvailable`) or with `LockNotAcquiredError`. */
type Unavailable = 'null' | 'reject'

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
  readonly #defaults: ManagerDefaults
  readonly #queues = new Map<string, NameQueue>()
  readonly #host: QueueHost
  // Holds leases, never handles: a handle must stay collectable for its finalizer to run.
  readonly #finalizers = new FinalizationRegistry<Lease>((lease) => lease.finalize())

  constructor(options?: LockManagerOptions) {
    const resolved = resolveManagerOptions(options, 'options')
    this.store = resolved.store
    this.prefix = resolved.prefix
    this.sleep = resolved.sleep
    this.#defaults = resolved
    this.#host = {
      store: this.store,
      clientId: this.clientId,
      sleep: this.sleep,
      idle: (queue) => {
        if (this.#queues.get(queue.name) === queue) this.#queues.delete(queue.name)
      },
    }
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

  /** Snapshot: this manager's pending requests, and every holder (any client) of the names it holds or waits for. */
  async query(): Promise<LockManagerSnapshot> {
    const queues = [...this.#queues.values()]
    const pending = queues.flatMap((queue) =>
      queue.pending.map((request) => ({ name: queue.name, mode: request.mode, clientId: this.clientId })),
    )
    const holders = await Promise.all(
      queues.map((queue) =>
        this.store.holders(queue.key).catch((cause: unknown) => {
          throw storeError('query', queue.name, cause)
        }),
      ),
    )
    const held = queues.flatMap((queue, i) =>
      holders[i]!.map((holder) => ({ name: queue.name, mode: holder.mode, clientId: clientIdOf(holder.owner) })),
    )
    return { held, pending }
  }

  /** Whether anyone (any client) holds `name` right now. A snapshot: it may change a moment later. */
  async isLocked(name: string): Promise<boolean> {
    checkName(name)
    try {
      return (await this.store.holders(this.keyFor(name))).length > 0
    } catch (cause) {
      throw storeError('query', name, cause)
    }
  }

  /** Release `name` whoever holds it. Holders in this manager see their `signal` abort at once, others at their next renewal. */
  async forceRelease(name: string): Promise<boolean> {
    checkName(name)
    let released: boolean
    try {
      released = await this.store.forceRelease(this.keyFor(name))
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
  ): Promise<LockHandle | null> {
    checkName(name)
    // tryAcquire is acquire with ifAvailable: validated as such, so `steal` is refused with it.
    const resolved = resolveRequestOptions(
      ifAvailable ? { ...checkIsObject(options), ifAvailable: true } : options,
      'options',
      this.#defaults,
      true,
    )
    const lease = await observeRequest(this.#obtain(name, resolved, unavailable), this.#origin(name), resolved)
    if (!lease) return null
    const handle = new LockHandle(lease)
    if (resolved.releaseOnFinalize) {
      lease.attachHandle(handle)
      this.#finalizers.register(handle, lease)
    }
    return handle
  }

  async #run<T>(name: string, options: ResolvedRequest, callback: (lock: Lock | null) => T, unavailable: Unavailable): Promise<Awaited<T>> {
    const lease = await observeRequest(this.#obtain(name, options, unavailable), this.#origin(name), options)
    let result: Awaited<T>
    try {
      result = await callback(lease ? new Lock(lease) : null)
    } catch (error) {
      // The callback's failure is the outcome; a release failure is on the `released` channel
      // and the ttl frees the lock.
      await lease?.release().catch(() => undefined)
      throw error
    }
    await lease?.release()
    return result
  }

  /**
   * The one way into a lock: validated options in, a lease (or `null`) out. Enqueues
   * synchronously, so `query()` shows the request as soon as the public call returns, and an abort
   * right after the call wins over a grant.
   */
  #obtain(name: string, options: ResolvedRequest, unavailable: Unavailable): Promise<Lease | null> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    const queue = this.#queue(name)
    if (options.steal) return this.#steal(queue, options)
    const once = options.ifAvailable || options.timeout === 0
    const giveUp = () => (unavailable === 'null' ? null : Promise.reject(notAcquired(name, options.timeout)))
    if (once && !queue.available(options.mode)) return Promise.resolve().then(giveUp)

    return new Promise<Lease | null>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const finish = () => {
        request.settled = true
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const request: PendingRequest = {
        mode: options.mode,
        ttl: options.ttl,
        autoExtend: options.autoExtend,
        once,
        requestedAt: performance.now(),
        settled: false,
        grant: (lease) => {
          finish()
          publish('acquired', () => ({ ...eventBase(lease), waitMs: performance.now() - request.requestedAt, stolen: false }))
          resolve(lease)
        },
        fail: (error) => {
          finish()
          reject(error)
        },
        unavailable: () => {
          finish()
          if (unavailable === 'null') resolve(null)
          else reject(notAcquired(name, options.timeout))
        },
      }
      const giveUpWith = (error: unknown) => {
        if (request.settled) return
        finish()
        queue.drop(request)
        reject(error)
      }
      const onAbort = () => giveUpWith(signal!.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (options.timeout !== undefined && options.timeout > 0) {
        const ms = options.timeout
        timer = setTimeout(() => giveUpWith(notAcquired(name, ms)), ms)
        timer.unref()
      }
      queue.enqueue(request)
    })
  }

  async #steal(queue: NameQueue, options: ResolvedRequest): Promise<Lease> {
    const owner = newOwnerToken(this.clientId)
    const sentAt = performance.now()
    let fencingToken: number
    try {
      ;({ fencingToken } = await this.store.steal({ key: queue.key, owner, ttlMs: options.ttl, clientId: this.clientId }))
    } catch (cause) {
      queue.checkIdle()
      throw storeError('steal', queue.name, cause)
    }
    for (const lease of [...queue.held]) lease.markLost('stolen')
    const lease = queue.lease(owner, 'exclusive', fencingToken, options.ttl, options.autoExtend, sentAt)
    publish('acquired', () => ({ ...eventBase(lease), waitMs: performance.now() - sentAt, stolen: true }))
    return lease
  }

  #origin(name: string): RequestOrigin {
    return { name, key: this.keyFor(name), clientId: this.clientId }
  }

  #queue(name: string): NameQueue {
    let queue = this.#queues.get(name)
    if (!queue) this.#queues.set(name, (queue = new NameQueue(this.#host, name, this.keyFor(name))))
    return queue
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

function notAcquired(name: string, timeout: number | undefined): LockNotAcquiredError {
  const why = timeout ? `timed out after ${timeout} ms` : 'it is held by another holder'
  return new LockNotAcquiredError(name, `Lock ${JSON.stringify(name)} was not acquired: ${why}`)
}

function eventBase(lease: Lease) {
  return { name: lease.name, key: lease.key, mode: lease.mode, clientId: lease.clientId, fencingToken: lease.fencingToken }
}
