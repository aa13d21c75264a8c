import type { Holder, LockListing, LockStore } from '../index.js'

/** A held lock as the CLI shows it. */
export interface LockView {
  name: string
  key: string
  /** `exclusive` when an exclusive holder is among the holders, else `shared`. */
  mode: 'exclusive' | 'shared'
  holders: HolderView[]
  /** The longest remaining ttl among the holders (the lock is free after it), when the store knows it. */
  ttlMs: number | null
  /** The last fencing token granted, when the store keeps one per lock. */
  fencingToken: number | null
}

export interface HolderView {
  /** The holding manager's id (`LockManager.clientId`, as `query()` and events report it). */
  clientId: string
  mode: 'exclusive' | 'shared'
  ttlMs: number | null
}

/** Why a store cannot list, for the one-line refusal. */
export function cannotList(url: string): string {
  if (/^memcached:/i.test(url)) {
    return 'memcached stores cannot list locks: memcached has no way to enumerate its keys. `cachelock show NAME` and `cachelock release NAME` work on a lock you can name'
  }
  return 'this store cannot list locks (it does not implement LockStore.list). `cachelock show NAME` and `cachelock release NAME` work on a lock you can name'
}

/** Every held lock under `prefix` whose name matches `pattern`, sorted by name. */
export async function listLocks(store: LockStore, prefix: string, pattern: string | undefined): Promise<LockView[] | undefined> {
  const listings = store.list?.(prefix, pattern)
  if (!listings) return undefined
  const views: LockView[] = []
  for await (const listing of listings) views.push(view(prefix, listing))
  return views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** One lock by name: through `list` (which also knows its fencing token) when the store has it, else `holders`. */
export async function showLock(store: LockStore, prefix: string, name: string): Promise<LockView | undefined> {
  const key = prefix + name
  const listings = store.list?.(prefix, name.replace(/[\\*?]/g, '\\$&'))
  if (listings) {
    for await (const listing of listings) if (listing.key === key) return view(prefix, listing)
    return undefined
  }
  const holders = await store.holders(key)
  return holders.length === 0 ? undefined : view(prefix, { key, holders })
}

function view(prefix: string, listing: LockListing): LockView {
  const holders = listing.holders.map(holderView)
  const ttls = holders.map((holder) => holder.ttlMs)
  return {
    name: listing.key.slice(prefix.length),
    key: listing.key,
    mode: holders.some((holder) => holder.mode === 'exclusive') ? 'exclusive' : 'shared',
    holders,
    ttlMs: ttls.includes(null) ? null : Math.max(...(ttls as number[])),
    fencingToken: listing.fencingToken ?? null,
  }
}

function holderView(holder: Holder): HolderView {
  // Owner tokens are `<clientId>:<random>`: show the manager, never the token (which would let
  // anyone who reads the output release or extend that holder's lock as if they held it).
  const colon = holder.owner.indexOf(':')
  return {
    clientId: colon === -1 ? holder.owner : holder.owner.slice(0, colon),
    mode: holder.mode,
    ttlMs: holder.expiresInMs ?? null,
  }
}
