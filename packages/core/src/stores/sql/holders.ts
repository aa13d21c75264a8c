import type { Holder } from '../../store.js'

/**
 * The live holders of one lock row, as the three database stores keep it: the exclusive holder and
 * its expiry, and shared holders with theirs, all in ms by the database's clock, `now` included.
 */
export function liveHolders(now: number, owner: string | null, expiresAt: number, shared: Iterable<[string, number]>): Holder[] {
  const holders: Holder[] = []
  if (owner !== null && expiresAt > now) holders.push({ owner, mode: 'exclusive', expiresInMs: expiresAt - now })
  for (const [sharer, expiry] of shared) {
    if (expiry > now) holders.push({ owner: sharer, mode: 'shared', expiresInMs: expiry - now })
  }
  return holders
}

/** Whole milliseconds for a ttl, never 0 (a hold must outlive the call that made it). */
export function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms))
}
