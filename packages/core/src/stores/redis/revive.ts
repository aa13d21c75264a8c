/** How long after an unasked-for end the connection is opened again, in ms; doubled after each end that follows without a `ready` between, up to `REVIVE_AFTER_MAX_MS` (ioredis's own longest retry delay). */
const REVIVE_AFTER_MS = 100
const REVIVE_AFTER_MAX_MS = 2000

/** The part of an ioredis client `reviveWhenEnded` uses. */
export interface Revivable {
  /** ioredis's connection state: `end` once it stopped reconnecting. */
  readonly status?: string
  /** Open the connection again (ioredis allows it once the client has ended). */
  connect?(): Promise<unknown>
  on?(event: 'end' | 'ready', listener: () => void): unknown
}

/**
 * Keep a connection the store owns open until the store closes it: when the client ends without
 * being asked to, open it again.
 *
 * ioredis ends a client for good, not only when told to: with Sentinel's `failoverDetector` (which a
 * `redis+sentinel://` URL turns on), a failover announced while the client is reconnecting, and
 * waiting for Sentinel to name the primary, abandons that attempt and ends the client. Every later
 * command then fails at once with "Connection is closed." until the process restarts, while the
 * app's other processes work. `test/reliability/sentinel-reconnect.test.ts` makes that moment
 * certain.
 *
 * @returns a function that stops it; call it before closing the connection on purpose.
 */
export function reviveWhenEnded(client: Revivable): () => void {
  if (typeof client.on !== 'function' || typeof client.connect !== 'function') return () => undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let delay = REVIVE_AFTER_MS
  client.on('ready', () => {
    delay = REVIVE_AFTER_MS
  })
  client.on('end', () => {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      // A failed attempt ends the client again, and this runs again, later: a client whose own
      // retryStrategy gave up on a server that is down is not hammered. (Opened meanwhile by
      // someone else, it is left alone.)
      if (client.status === 'end') client.connect!().catch(() => undefined)
    }, delay)
    delay = Math.min(delay * 2, REVIVE_AFTER_MAX_MS)
    // Housekeeping: calls made meanwhile fail at once, so nothing waits on this timer.
    timer.unref()
  })
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
