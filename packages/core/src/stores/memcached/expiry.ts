import { invalid } from '../../validate.js'

/**
 * Converting the store's millisecond ttls to memcached expirations, once, at this boundary.
 *
 * memcached counts expiry in whole seconds on its own clock, `current_time`, which a timer sets to
 * the server's monotonic seconds (rounded down) once a second; an item is gone once that clock
 * reaches its expiry. The timer is re-armed one second after it last fired, so its ticks drift
 * later by a little every second (about a millisecond here, more on a busy machine) and, each time
 * the drift crosses a second's boundary, the clock skips a value: just before such a skip it lags
 * real time by up to two seconds (more if a tick comes late). So an item stored with ttl N lives
 * more than N−1 seconds most of the time, more than N−2 around a skip, and at most about N.
 *
 * The lock manager trusts a lock for `ttlMs` after it asked, so the store sends two seconds more
 * than the rounded-up ttl: the item then lives at least `ttlMs` even across a skip, and at most
 * its ttl rounded up to seconds, plus two seconds and a bit. That holds while memcached's timer fires less than about
 * 50 ms late every second (1 ms measured here) and any one tick less than a second late; the
 * model in `expiry.test.ts` checks both. Erring late only delays the next holder when a holder
 * vanished; erring early would let two hold the lock at once. (One second more was not enough: a
 * 1 s lock was taken by another process 779 ms after it was granted, under load.)
 */

/** The longest relative ttl memcached accepts; larger expirations are read as Unix times. */
export const MAX_RELATIVE_EXPTIME = 2_592_000

/** Seconds an item must be kept so it outlives `ttlMs` on memcached's clock: rounded up, plus two (see above). */
export function ttlSeconds(ttlMs: number): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw invalid('ttlMs', 'a finite number of milliseconds > 0', ttlMs)
  return Math.ceil(ttlMs / 1000) + 2
}

/**
 * The expiration field for an item kept `seconds`: the seconds themselves up to 30 days, an
 * absolute Unix time beyond (memcached's rule). Only that absolute form reads the client's clock
 * (`nowMs`); at a month's distance, a few seconds of clock skew do not matter.
 */
export function exptime(seconds: number, nowMs = Date.now()): number {
  return seconds > MAX_RELATIVE_EXPTIME ? Math.floor(nowMs / 1000) + seconds : seconds
}
