import { invalid } from '../../validate.js'

/**
 * Converting the store's millisecond ttls to memcached expirations, once, at this boundary.
 *
 * memcached counts expiry in whole seconds on a clock that ticks once a second, and an item is
 * gone when that clock reaches its expiry: an item stored with ttl N lives between N−1 and N
 * seconds (a ttl of 1 can mean 1 ms). The lock manager trusts a lock for `ttlMs` after it asked,
 * so the store sends one second more than the rounded-up ttl: the item then lives at least `ttlMs`
 * and at most a second and a bit longer. Erring late only delays the next holder when a holder
 * vanished; erring early would let two hold the lock at once.
 */

/** The longest relative ttl memcached accepts; larger expirations are read as Unix times. */
export const MAX_RELATIVE_EXPTIME = 2_592_000

/** Seconds an item must be kept so it outlives `ttlMs`: rounded up, plus the clock's tick. */
export function ttlSeconds(ttlMs: number): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw invalid('ttlMs', 'a finite number of milliseconds > 0', ttlMs)
  return Math.ceil(ttlMs / 1000) + 1
}

/**
 * The expiration field for an item kept `seconds`: the seconds themselves up to 30 days, an
 * absolute Unix time beyond (memcached's rule). Only that absolute form reads the client's clock
 * (`nowMs`); at a month's distance, a few seconds of clock skew do not matter.
 */
export function exptime(seconds: number, nowMs = Date.now()): number {
  return seconds > MAX_RELATIVE_EXPTIME ? Math.floor(nowMs / 1000) + seconds : seconds
}
