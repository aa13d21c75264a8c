import { LockError, LockNotAcquiredError } from './errors.js'
import { channels, publish, type NotAcquiredEvent } from './events.js'
import type { Lease } from './lease.js'
import type { ResolvedRequest } from './resolve-options.js'

/** Who asked, for the event. */
export interface RequestOrigin {
  name: string
  key: string
  clientId: string
}

/**
 * Publish `cachelock:not-acquired` when a request ends without its lock: refused (`null` or
 * `LockNotAcquiredError`), aborted, or failed in the store. Costs nothing unless someone listens
 * when the request starts.
 */
export function observeRequest(obtained: Promise<Lease | null>, origin: RequestOrigin, options: ResolvedRequest): Promise<Lease | null> {
  if (!channels.notAcquired.hasSubscribers) return obtained
  const requestedAt = performance.now()
  const report = (reason: NotAcquiredEvent['reason'], error?: unknown) =>
    publish('notAcquired', () => ({ ...origin, mode: options.mode, waitMs: performance.now() - requestedAt, reason, error }))
  return obtained.then(
    (lease) => {
      if (lease === null) report('unavailable')
      return lease
    },
    (error: unknown) => {
      report(reasonOf(error, options), error)
      throw error
    },
  )
}

function reasonOf(error: unknown, options: ResolvedRequest): NotAcquiredEvent['reason'] {
  if (error instanceof LockNotAcquiredError) return options.ifAvailable || options.timeout === 0 ? 'unavailable' : 'timeout'
  if (error instanceof LockError) return 'store-error'
  // A signal's own reason; `AbortSignal.timeout()` aborts with a TimeoutError.
  return error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'aborted'
}
