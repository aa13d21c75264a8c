import { storeError, LockNotAcquiredError, type LockError } from './errors.js'
import { publish } from './events.js'
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
  grant(lease: Lease): void
  fail(error: unknown): void
  /** Set once the request is settled (granted, failed, aborted, timed out). */
  settled: boolean
  /** The queue's round in which the store was last asked for it (the queue's bookkeeping). */
  asked: number
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
  const { signal } = options
  return new Promise<Lease | null>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const finish = () => {
      request.settled = true
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const requestedAt = performance.now()
    const request: PendingRequest = {
      mode: options.mode,
      ttl: options.ttl,
      autoExtend: options.autoExtend,
      once,
      requestedAt,
      giveUpAt: options.timeout ? requestedAt + options.timeout : undefined,
      settled: false,
      asked: 0,
      grant: (lease) => {
        finish()
        publish('acquired', () => ({ ...eventBase(lease), waitMs: performance.now() - requestedAt, stolen: false }))
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
    if (options.timeout) {
      const ms = options.timeout
      // Not unref'd: the caller awaits this, and a script waiting for a lock must not exit with its work undone.
      timer = setTimeout(() => {
        // A store that failed or never answered while we waited is not a lock held by someone
        // else: say so ("store down", not "busy"), with the store's error.
        const trouble = queue.storeTrouble(requestedAt)
        giveUpWith(trouble === undefined ? notAcquired(name, ms) : timedOutInTrouble(name, request, trouble))
      }, ms)
    }
    queue.enqueue(request)
  })
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
