import { globMatcher } from '../../glob.js'
import { registerSettledStore } from '../../settled-stores.js'
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
  Waiter,
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
  /** The exclusive holder, when there is one, and when it expires. */
  owner?: string | undefined
  expiresAt: number
  /** Shared holders and when each expires; made for the first one (most locks are exclusive). */
  shared?: Map<string, number>
  /** The last fencing token granted on this key (for `list`). */
  fencingToken?: number
}

/** A manager waiting for a key: the mode it asked for, and when to forget it (store clock, ms). */
interface Waiting {
  mode: LockMode
  until: number
}

/** A waiter is forgotten when it has not asked for this many of its polls (plus a margin), as `RedisStore`'s default. */
const LIVENESS_POLLS = 2

/** After this many operations, one pass drops entries whose holders all expired (amortized cleanup). */
const SWEEP_EVERY = 1024

/**
 * @internal How many names the store keeps state for: lock entries, and subscriber sets. Dropping
 * what a name no longer needs (the sweep of expired names, an unsubscribe) is invisible to every
 * store operation; the tests that prove nothing grows per name read this. Not exported from the
 * package.
 */
export let storedNames: (store: MemoryStore) => { locks: number; listened: number; waited: number }

// The prototypes whose instances answer every call settled: this class's, and a subclass of this
// package's that says so (`answerAtOnce`); any other subclass may delay its calls.
const atOnce = new Set<object>()
/** @internal Mark a subclass of this package whose calls are settled when they return. */
export function answerAtOnce(prototype: MemoryStore): void {
  atOnce.add(prototype)
}

/**
 * Locks in this process's memory: the embedded default, for development, tests and single-process
 * apps. Every `LockManager` given the same instance shares its locks (and wakes on each other's
 * releases); separate processes do not. Operations are synchronous inside, so atomic.
 */
export class MemoryStore implements LockStore {
  readonly #entries = new Map<string, Entry>()
  readonly #listeners = new Map<string, Set<() => void>>()
  /** Per key, the managers waiting for it: their mode and when to forget them (see `waiters`). */
  readonly #waiting = new Map<string, Map<string, Waiting>>()
  readonly #now: () => number
  // One counter for every key: strictly increasing per key too, and nothing kept per released name.
  #fence = 0
  #operations = 0

  static {
    storedNames = (store) => ({ locks: store.#entries.size, listened: store.#listeners.size, waited: store.#waiting.size })
    atOnce.add(this.prototype) // `this`, not the class by name: a bundler would rename a class that names itself
    // `#entries in store`: a proxy or wrapper of a memory store is not one.
    registerSettledStore((store) => #entries in store && atOnce.has(Object.getPrototypeOf(store) as object))
  }

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? (() => performance.now())
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    const now = this.#tick()
    const entry = this.#live(request.key, now)
    const blockedUntil = entry ? blocking(entry, request.mode) : undefined
    if (blockedUntil !== undefined) {
      if (request.once !== true) this.#wait(request, now)
      return Promise.resolve({ granted: false, retryInMs: Math.max(0, blockedUntil - now) })
    }
    this.#stopWaiting(request.key, request.clientId)
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
    if (entry !== undefined && entry.owner === owner) {
      entry.expiresAt = now + ttlMs
      return Promise.resolve(true)
    }
    if (entry?.shared?.has(owner)) {
      entry.shared.set(owner, now + ttlMs)
      return Promise.resolve(true)
    }
    return Promise.resolve(false)
  }

  steal(request: StealRequest): Promise<Granted> {
    const now = this.#tick()
    const fencingToken = ++this.#fence
    this.#stopWaiting(request.key, request.clientId)
    this.#entries.set(request.key, { owner: request.owner, expiresAt: now + request.ttlMs, fencingToken })
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

  /** The managers whose last refused (not `once`) attempt on `key` is at most a few of their polls old and who were not granted it since. */
  waiters(key: string): Promise<Waiter[]> {
    const waiting = this.#liveWaiters(key, this.#tick())
    return Promise.resolve([...(waiting ?? [])].map(([clientId, { mode }]) => ({ clientId, mode })))
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

  #wait(request: AcquireRequest, now: number): void {
    let waiting = this.#waiting.get(request.key)
    if (!waiting) this.#waiting.set(request.key, (waiting = new Map<string, Waiting>()))
    waiting.set(request.clientId, { mode: request.mode, until: now + LIVENESS_POLLS * request.pollMs + 100 })
  }

  /** The waiters of `key` with those that stopped asking dropped. */
  #liveWaiters(key: string, now: number): Map<string, Waiting> | undefined {
    const waiting = this.#waiting.get(key)
    if (!waiting) return undefined
    for (const [clientId, { until }] of waiting) if (until <= now) waiting.delete(clientId)
    if (waiting.size > 0) return waiting
    this.#waiting.delete(key)
    return undefined
  }

  #stopWaiting(key: string, clientId: string): void {
    const waiting = this.#waiting.get(key)
    if (waiting?.delete(clientId) && waiting.size === 0) this.#waiting.delete(key)
  }

  /** The entry for `key` with expired holders dropped, or undefined when nobody holds it. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.owner !== undefined && entry.expiresAt <= now) entry.owner = undefined
    if (entry.shared) for (const [owner, expiresAt] of entry.shared) if (expiresAt <= now) entry.shared.delete(owner)
    if (entry.owner !== undefined || (entry.shared?.size ?? 0) > 0) return entry
    this.#entries.delete(key)
    return undefined
  }

  #hold(key: string, owner: string, mode: LockMode, expiresAt: number): Entry {
    let entry: Entry | undefined
    if (mode === 'exclusive') {
      // A name with a live entry refuses an exclusive request (see `blocking`), and `#live` dropped
      // any other: an exclusive grant always starts the name's entry afresh.
      this.#entries.set(key, (entry = { owner, expiresAt }))
      return entry
    }
    entry = this.#entries.get(key)
    if (!entry) this.#entries.set(key, (entry = { owner: undefined, expiresAt: 0 }))
    ;(entry.shared ??= new Map()).set(owner, expiresAt)
    return entry
  }

  /** After a holder left: drop the entry if empty, and wake waiters. */
  #settle(key: string, entry: Entry): void {
    if (entry.owner === undefined && (entry.shared?.size ?? 0) === 0) this.#entries.delete(key)
    this.#wake(key)
  }

  #wake(key: string): void {
    const set = this.#listeners.get(key)
    if (set) for (const listener of [...set]) listener()
  }

  #tick(): number {
    const now = this.#now()
    if (++this.#operations % SWEEP_EVERY === 0) {
      for (const key of [...this.#entries.keys()]) this.#live(key, now)
      for (const key of [...this.#waiting.keys()]) this.#liveWaiters(key, now)
    }
    return now
  }
}

function holdersOf(entry: Entry, now: number): Holder[] {
  const list: Holder[] = []
  if (entry.owner !== undefined) list.push({ owner: entry.owner, mode: 'exclusive', expiresInMs: entry.expiresAt - now })
  for (const [owner, expiresAt] of entry.shared ?? []) list.push({ owner, mode: 'shared', expiresInMs: expiresAt - now })
  return list
}

/** When `entry` refuses a request in `mode`, the time at which the blocking holders expire. */
function blocking(entry: Entry, mode: LockMode): number | undefined {
  if (entry.owner !== undefined) return entry.expiresAt
  if (mode === 'shared' || !entry.shared || entry.shared.size === 0) return undefined
  return Math.min(...entry.shared.values())
}

function remove(entry: Entry, owner: string): boolean {
  if (entry.owner === owner) {
    entry.owner = undefined
    return true
  }
  return entry.shared?.delete(owner) ?? false
}
