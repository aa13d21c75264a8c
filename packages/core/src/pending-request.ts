import { storeError, LockNotAcquiredError, type LockError } from './errors.js'
import { channels, publish } from './events.js'
import type { Lease } from './lease.js'
import type { NameQueue } from './name-queue.js'
import type { ResolvedRequest } from './resolve-options.js'
import type { LockMode } from './store.js'

/** One waiting request for a name. */
export interface PendingRequest {
  readonly mode: LockMode
  readonly ttl: number
  readonly autoExtend: boolean
  /** Try once; when refused, settle through `unavailable` instead of waiting. */
  readonly once: boolean
  readonly requestedAt: number
  /**
   * `performance.now()` at which the caller's `timeout` runs out: until then a failed store
   * attempt does not fail the request, it retries. `undefined` (no timeout): the first store
   * failure fails it, so a wait with no deadline of its own cannot outlast the store's.
   */
  readonly giveUpAt: number | undefined
  /** Settle when `once` and refused: `null` for Web Locks `ifAvailable`, an error otherwise. */
  unavailable(): void
  /** It will wait: refused by the store, behind a holder here, or retrying after a store failure. */
  waits(): void
  grant(lease: Lease): void
  fail(error: unknown): void
  /** Set once the request is settled (granted, failed, aborted, timed out). */
  settled: boolean
  /** The queue's round in which the store was last asked for it (the queue's bookkeeping). */
  asked: number
  /** Its attempt's number in the manager's grant order while one is out, else 0 (the order's bookkeeping). */
  orderSent: number
}

/** Give up with `null` (Web Locks `ifAvailable`) or with `LockNotAcquiredError`. */
export type Unavailable = 'null' | 'reject'

/**
 * Queue a request for `name` and resolve its lease once granted (or `null` / an error). The
 * request is in the queue when this returns, so `query()` shows it at once and an abort right
 * after the call wins over a grant. Its `timeout` timer and `signal` listener live here.
 */
export function waitInQueue(
  queue: NameQueue,
  name: string,
  options: ResolvedRequest,
  once: boolean,
  unavailable: Unavailable,
): Promise<Lease | null> {
  return new Promise<Lease | null>((resolve, reject) => {
    queue.enqueue(new WaitingRequest(queue, name, options, once, unavailable, resolve, reject))
  })
}

/**
 * A request waiting in its queue: one object per request, its own `signal` listener (through
 * `handleEvent`) rather than a closure for each way it can settle.
 */
class WaitingRequest implements PendingRequest {
  readonly mode: LockMode
  readonly ttl: number
  readonly autoExtend: boolean
  readonly once: boolean
  readonly requestedAt: number
  readonly giveUpAt: number | undefined
  settled = false
  asked = 0
  orderSent = 0
  readonly #queue: NameQueue
  readonly #name: string
  readonly #options: ResolvedRequest
  readonly #unavailable: Unavailable
  readonly #resolve: (lease: Lease | null) => void
  readonly #reject: (error: unknown) => void
  #timer: NodeJS.Timeout | undefined
  #onWait: (() => void) | undefined

  constructor(
    queue: NameQueue,
    name: string,
    options: ResolvedRequest,
    once: boolean,
    unavailable: Unavailable,
    resolve: (lease: Lease | null) => void,
    reject: (error: unknown) => void,
  ) {
    this.#queue = queue
    this.#name = name
    this.#options = options
    this.#unavailable = unavailable
    this.#resolve = resolve
    this.#reject = reject
    this.mode = options.mode
    this.ttl = options.ttl
    this.autoExtend = options.autoExtend
    this.once = once
    const requestedAt = performance.now()
    this.requestedAt = requestedAt
    this.giveUpAt = options.timeout ? requestedAt + options.timeout : undefined
    this.#onWait = options.onWait
    options.signal?.addEventListener('abort', this, { once: true })
    if (options.timeout) {
      const ms = options.timeout
      // Not unref'd: the caller awaits this, and a script waiting for a lock must not exit with its work undone.
      this.#timer = setTimeout(() => {
        // A store that failed or never answered while we waited is not a lock held by someone
        // else: say so ("store down", not "busy"), with the store's error.
        const trouble = queue.storeTrouble(requestedAt)
        this.#giveUpWith(trouble === undefined ? notAcquired(name, ms) : timedOutInTrouble(name, this, trouble))
      }, ms)
    }
  }

  grant(lease: Lease): void {
    this.#finish()
    if (channels.acquired.hasSubscribers)
      publish('acquired', () => ({ ...eventBase(lease), waitMs: performance.now() - this.requestedAt, stolen: false }))
    this.#resolve(lease)
  }

  fail(error: unknown): void {
    this.#finish()
    this.#reject(error)
  }

  waits(): void {
    const onWait = this.#onWait
    this.#onWait = undefined
    onWait?.()
  }

  unavailable(): void {
    this.#finish()
    if (this.#unavailable === 'null') this.#resolve(null)
    else this.#reject(notAcquired(this.#name, this.#options.timeout))
  }

  /** The signal aborted (the listener `addEventListener` was given is this object). */
  handleEvent(): void {
    this.#giveUpWith(this.#options.signal!.reason)
  }

  #giveUpWith(error: unknown): void {
    if (this.settled) return
    this.#finish()
    this.#queue.drop(this)
    this.#reject(error)
  }

  #finish(): void {
    this.settled = true
    this.#onWait = undefined
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#options.signal?.removeEventListener('abort', this)
  }
}

/** The error of a request whose `timeout` ran out while the store was failing: the store's, not "not acquired". */
export function timedOutInTrouble(name: string, request: PendingRequest, cause: unknown): LockError {
  const ms = Math.round(request.giveUpAt! - request.requestedAt)
  return storeError('acquire', name, cause, ` (gave up after the ${ms} ms timeout)`)
}

/** The lock was not had: `timeout` ran out, or a single try found it taken. */
export function notAcquired(name: string, timeout: number | undefined): LockNotAcquiredError {
  const why = timeout ? `timed out after ${timeout} ms` : 'it is held by another holder'
  return new LockNotAcquiredError(name, `Lock ${JSON.stringify(name)} was not acquired: ${why}`)
}

/** The fields every lock event carries, for a lease. */
export function eventBase(lease: Lease) {
  return { name: lease.name, key: lease.key, mode: lease.mode, clientId: lease.clientId, fencingToken: lease.fencingToken }
}
