import type { QueueHost } from './queue-host.js'

/** A failed release is tried again after 250 ms, 1 s and 4 s (while the lock may still be held). */
const RETRY_MS = 250
const RETRIES = 3

/** One grant whose release the store failed. */
export interface FailedRelease {
  readonly name: string
  readonly key: string
  readonly owner: string
  /** `performance.now()` after which the lock has expired in the store anyway. */
  readonly expiresAt: number
}

/**
 * A release the store failed (unreachable, timed out): try again in the background, after 250 ms,
 * 1 s, 4 s, while the lock may still be held. So a lock is free once the store answers again, not
 * only after its ttl: a command that never reached the store leaves it held. Owner-checked, so a
 * retry that comes after the lock expired, or moved on to another holder, changes nothing.
 * Housekeeping: unref'd, and nobody awaits it.
 */
export function retryRelease(host: Pick<QueueHost, 'store' | 'deadline'>, release: FailedRelease, attempt = 0): void {
  const delay = RETRY_MS * 4 ** attempt
  if (attempt >= RETRIES || performance.now() + delay >= release.expiresAt) return
  setTimeout(() => {
    host.deadline.watch('release', release.name, () => host.store.release(release.key, release.owner), {
      keepAlive: false,
      value: () => undefined,
      error: () => retryRelease(host, release, attempt + 1),
    })
  }, delay).unref()
}
