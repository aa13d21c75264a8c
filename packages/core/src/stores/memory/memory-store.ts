import { globMatcher } from '../../glob.js'
import type {
  AcquireRequest,
  AcquireResult,
  Granted,
  Holder,
  LockListing,
  LockMode,
  LockStore,
  StealRequest,
  Unsubscribe,
} from '../../store.js'

export interface MemoryStoreOptions {
  /**
   * The store's clock in ms. Tests with fake timers can pass `() => Date.now()` (or any mocked
   * clock); expiry is decided by this clock alone.
   * @default () => performance.now()
   */
  now?: () => number
}

interface Entry {
  exclusive?: { owner: string; expiresAt: number }
  shared: Map<string, number>
  /** The last fencing token granted on this key (for `list`). */
  fencingToken?: number
}

/** After this many operations, one pass drops entries whose holders all expired (amortized cleanup). */
const SWEEP_EVERY = 1024

/**
 * @internal How many names the store keeps state for: lock entries, and subscriber sets. Dropping
 * what a name no longer needs (the sweep of expired names, an unsubscribe) is invisible to every
 * store operation; the tests that prove nothing grows per name read this. Not exported from the
 * package.
 */
export let storedNames: (store: MemoryStore) => { locks: number; listened: number }

/**
 * Locks in this process's memory: the embedded default, for development, tests and single-process
 * apps. Every `LockManager` given the same instance shares its locks (and wakes on each other's
 * releases); separate processes do not. Operations are synchronous inside, so atomic.
 */
export class MemoryStore implements LockStore {
  readonly #entries = new Map<string, Entry>()
  readonly #listeners = new Map<string, Set<() => void>>()
  readonly #now: () => number
  // One counter for every key: strictly increasing per key too, and nothing kept per released name.
  #fence = 0
  #operations = 0

  static {
    storedNames = (store) => ({ locks: store.#entries.size, listened: store.#listeners.size })
  }

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? (() => performance.now())
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    const now = this.#tick()
    const entry = this.#live(request.key, now)
    const blockedUntil = entry ? blocking(entry, request.mode) : undefined
    if (blockedUntil !== undefined) return Promise.resolve({ granted: false, retryInMs: Math.max(0, blockedUntil - now) })
    const held = this.#hold(request.key, request.owner, request.mode, now + request.ttlMs)
    held.fencingToken = ++this.#fence
    return Promise.resolve({ granted: true, fencingToken: held.fencingToken })
  }

  release(key: string, owner: string): Promise<boolean> {
    const entry = this.#live(key, this.#tick())
    const removed = entry !== undefined && remove(entry, owner)
    if (removed) this.#settle(key, entry)
    return Promise.resolve(removed)
  }

  extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.#tick()
    const entry = this.#live(key, now)
    if (entry?.exclusive?.owner === owner) {
      entry.exclusive.expiresAt = now + ttlMs
      return Promise.resolve(true)
    }
    if (entry?.shared.has(owner)) {
      entry.shared.set(owner, now + ttlMs)
      return Promise.resolve(true)
    }
    return Promise.resolve(false)
  }

  steal(request: StealRequest): Promise<Granted> {
    const now = this.#tick()
    const fencingToken = ++this.#fence
    this.#entries.set(request.key, { exclusive: { owner: request.owner, expiresAt: now + request.ttlMs }, shared: new Map(), fencingToken })
    this.#wake(request.key)
    return Promise.resolve({ fencingToken })
  }

  forceRelease(key: string): Promise<boolean> {
    const held = this.#live(key, this.#tick()) !== undefined
    this.#entries.delete(key)
    if (held) this.#wake(key)
    return Promise.resolve(held)
  }

  holders(key: string): Promise<Holder[]> {
    const now = this.#tick()
    const entry = this.#live(key, now)
    return Promise.resolve(entry ? holdersOf(entry, now) : [])
  }

  /** The held locks under `prefix` whose name matches `pattern`, with their last fencing token: a snapshot taken at the call. */
  list(prefix: string, pattern = '*'): AsyncIterable<LockListing> {
    const matches = globMatcher(pattern)
    const now = this.#tick()
    const listings: LockListing[] = []
    for (const key of [...this.#entries.keys()]) {
      if (!key.startsWith(prefix) || !matches(key.slice(prefix.length))) continue
      const entry = this.#live(key, now)
      if (entry) listings.push({ key, holders: holdersOf(entry, now), fencingToken: entry.fencingToken })
    }
    return {
      [Symbol.asyncIterator]: () => {
        const items = listings.values()
        return { next: () => Promise.resolve(items.next()) }
      },
    }
  }

  onRelease(key: string, wake: () => void): Unsubscribe {
    let set = this.#listeners.get(key)
    if (!set) this.#listeners.set(key, (set = new Set()))
    // Each subscription gets its own function, so one waker registered twice is removed once.
    const listener = () => wake()
    set.add(listener)
    // Subscribing is instantaneous here, so the "subscription is active" wake-up is due now.
    queueMicrotask(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.#listeners.get(key) === set) this.#listeners.delete(key)
    }
  }

  /** The entry for `key` with expired holders dropped, or undefined when nobody holds it. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.exclusive && entry.exclusive.expiresAt <= now) entry.exclusive = undefined
    for (const [owner, expiresAt] of entry.shared) if (expiresAt <= now) entry.shared.delete(owner)
    if (entry.exclusive || entry.shared.size > 0) return entry
    this.#entries.delete(key)
    return undefined
  }

  #hold(key: string, owner: string, mode: LockMode, expiresAt: number): Entry {
    let entry = this.#entries.get(key)
    if (!entry) this.#entries.set(key, (entry = { shared: new Map() }))
    if (mode === 'exclusive') entry.exclusive = { owner, expiresAt }
    else entry.shared.set(owner, expiresAt)
    return entry
  }

  /** After a holder left: drop the entry if empty, and wake waiters. */
  #settle(key: string, entry: Entry): void {
    if (!entry.exclusive && entry.shared.size === 0) this.#entries.delete(key)
    this.#wake(key)
  }

  #wake(key: string): void {
    const set = this.#listeners.get(key)
    if (set) for (const listener of [...set]) listener()
  }

  #tick(): number {
    const now = this.#now()
    if (++this.#operations % SWEEP_EVERY === 0) for (const key of [...this.#entries.keys()]) this.#live(key, now)
    return now
  }
}

function holdersOf(entry: Entry, now: number): Holder[] {
  const list: Holder[] = []
  if (entry.exclusive) list.push({ owner: entry.exclusive.owner, mode: 'exclusive', expiresInMs: entry.exclusive.expiresAt - now })
  for (const [owner, expiresAt] of entry.shared) list.push({ owner, mode: 'shared', expiresInMs: expiresAt - now })
  return list
}

/** When `entry` refuses a request in `mode`, the time at which the blocking holders expire. */
function blocking(entry: Entry, mode: LockMode): number | undefined {
  if (entry.exclusive) return entry.exclusive.expiresAt
  if (mode === 'shared' || entry.shared.size === 0) return undefined
  return Math.min(...entry.shared.values())
}

function remove(entry: Entry, owner: string): boolean {
  if (entry.exclusive?.owner === owner) {
    entry.exclusive = undefined
    return true
  }
  return entry.shared.delete(owner)
}
