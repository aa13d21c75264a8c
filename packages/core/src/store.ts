/**
 * The store seam: everything a backend must do for cachelock, and nothing more.
 *
 * A store wraps the app's existing cache (a Redis or memcached client, a Map) and performs each
 * operation below **atomically in the store**. The lock manager above it does all waiting,
 * queueing, renewal and bookkeeping; a store only answers single attempts. A new store is correct
 * when it passes the shared contract suite (`lockStoreContract` from `@cachelock/core/testing`)
 * against its real server.
 *
 * Conventions every member follows:
 * - `key` is the full store key (the manager's prefix plus the lock name). It can be any
 *   JavaScript string: empty, 10 kB long, with spaces, braces, newlines, or lone surrogates that
 *   are not well-formed UTF-16. Distinct keys must stay distinct in the store: encode with
 *   {@link keyBytes} (WTF-8, identical to UTF-8 for well-formed strings) rather than letting a
 *   client replace lone surrogates with U+FFFD, and hash keys the backend cannot hold (see
 *   `safeKey`) instead of truncating them.
 * - `owner` is an opaque token of at least 128 random bits, unique per grant. Every owner-checked
 *   operation compares it inside the store, in the same atomic step as the change it guards.
 * - Durations are milliseconds. Expiry is decided by the store's clock (Redis `TIME`/`PEXPIRE`,
 *   memcached's own ttl), never the client's. A store keeps a hold **at least** `ttlMs` (the manager
 *   trusts it that long) and may keep it a little longer (memcached: up to about 3 s, since its
 *   clock ticks in whole seconds and sometimes skips one).
 * - A failure of the backend (connection lost, timeout, protocol error) rejects with the
 *   backend's error; the manager wraps it in a `LockError` with `cause`. A store never resolves
 *   `true` for a change it did not make.
 */
export interface LockStore {
  /**
   * Try once to take `key` for `owner` in `mode`, for `ttlMs`. Never waits.
   *
   * Exclusive is granted when nobody holds the key; shared when no exclusive holder is live
   * (shared holders coexist, each with its own owner and expiry). A grant returns a fencing token
   * that is strictly greater than every token granted before for this key, by any client, also
   * after the lock expired or was released.
   *
   * A refusal may say how long the current holder still has (`retryInMs`), so a waiter never
   * sleeps past the moment the lock expires on its own.
   */
  acquire(request: AcquireRequest): Promise<AcquireResult>

  /** Release `owner`'s hold on `key`. Resolves `false` (and changes nothing) when `owner` does not hold it. */
  release(key: string, owner: string): Promise<boolean>

  /**
   * Set the remaining lifetime of `owner`'s hold on `key` to `ttlMs` from now. Resolves `false`
   * (and changes nothing) when `owner` does not hold it: expired, stolen or released.
   */
  extend(key: string, owner: string, ttlMs: number): Promise<boolean>

  /**
   * Optional: `extend` for many holds at once, in as few round trips and commands as the backend
   * allows, for the renewals a manager has due in one tick. Resolves one answer per renewal, in
   * order, each what `extend` would have resolved; rejects when the backend failed. Stores
   * without it are renewed one `extend` per hold.
   */
  extendMany?(renewals: readonly Renewal[]): Promise<boolean[]>

  /**
   * Take `key` exclusively for `owner` whoever holds it (Web Locks `steal`). Every previous holder,
   * shared or exclusive, loses it: their `extend` and `release` now resolve `false`.
   */
  steal(request: StealRequest): Promise<Granted>

  /** Remove every hold on `key` (PyYADL's `release(force=True)`). Resolves whether anything was held. */
  forceRelease(key: string): Promise<boolean>

  /** A snapshot of the live holders of `key`; empty when free. */
  holders(key: string): Promise<Holder[]>

  /**
   * Optional: the managers waiting for `key` right now, as the store saw them, for `query()` (which
   * reports its own manager's pending requests from its own queues, and the other managers' from
   * here). Without it, `query()` shows no other manager's pending requests.
   *
   * - A manager is waiting from a refused `acquire` that is not {@link AcquireRequest.once}: one
   *   entry per manager (`clientId`) and key, in the mode of its last such attempt (a manager asks
   *   for the request at the head of its own queue; the ones behind it never reach the store).
   * - It is forgotten when it is granted `key`, and when it has not asked again for a few of its
   *   `pollMs` (it gave up, was aborted, or died), like a fairness queue's liveness. A `once`
   *   attempt neither adds nor removes an entry.
   * - A snapshot, possibly stale a moment later; a manager's own entries are included (the caller
   *   leaves out its own `clientId`).
   *
   * Implement it, and opt in to its contract tests with `lockStoreContract(…, { waiters: true })`.
   * Leave it out when recording a waiter would cost the uncontended acquire an extra round trip
   * or its atomicity (`MemcachedStore`).
   */
  waiters?(key: string): Promise<Waiter[]>

  /**
   * Optional wake-ups. Call `wake` when `key` may have become free (released, stolen, expired).
   * Spurious calls are fine; the manager just tries again. Because a subscription can take a round
   * trip to become active, also call `wake` once when it is active, so a release that happened in
   * between is not missed. Returns a function that ends the subscription. Stores without
   * notifications leave this out and waiters poll every `sleep` ms.
   *
   * A store may grant the lock to a waiter in the same step as a release (`RedisStore` does) and
   * then calls `wake` with the {@link Handover}: the waiter whose refused attempt carried
   * `handover.owner` holds the lock already, and other waiters need not try again now.
   */
  onRelease?(key: string, wake: (handover?: Handover) => void): Unsubscribe

  /**
   * Optional: the locks held right now whose key begins with `prefix` and whose name (the rest of
   * the key) matches `pattern`, for operators: the `cachelock list` CLI, dashboards. Without a
   * `pattern`, every name under `prefix`.
   *
   * - `pattern` is a glob on the name: `*` any run of characters, `?` one character, `\` makes the
   *   next character literal; everything else matches itself (see `glob.ts`). A pattern without
   *   wildcards names one lock: a store should look it up directly rather than scan.
   * - Each held lock is yielded once, with its live holders (never an empty list: free locks are
   *   left out) and, when the store keeps one per key, the last fencing token granted for it.
   * - A snapshot, streamed: a store with many keys yields as it scans (Redis: `SCAN` on every
   *   primary), so a lock taken or released meanwhile may or may not appear. It must not block
   *   the store (no `KEYS`).
   *
   * Leave it out when the backend cannot enumerate keys (memcached has no listing; its crawler
   * dump is neither complete nor able to recover hashed names). Implement it, and opt in to its
   * contract tests with `lockStoreContract(…, { list: true })`.
   */
  list?(prefix: string, pattern?: string): AsyncIterable<LockListing>

  /** Release connections the store itself opened (never the client the app handed in). */
  close?(): Promise<void>

  /**
   * Set to `true` by a store that never locks (`OpenStore`): the manager then does not queue
   * requests for a name among its own callers either, so every request is granted at once.
   */
  readonly neverLocks?: boolean
}

/**
 * A lock a release handed to a waiting request: the one whose last refused attempt (an exclusive
 * `acquire` with `waiting: true`) carried `owner`.
 */
export interface Handover {
  /** The owner token of that refused attempt; the lock is held under it now. */
  owner: string
  fencingToken: number
  /**
   * `performance.now()` until which the hold is sure to last without a renewal, by this process's
   * clock, when this store sent that attempt (absent for another client's handover). The hold is
   * short (the waiter's turn in the queue); the holder renews it to its ttl at once with `extend`.
   */
  heldUntil?: number
}

/** One attempt to take a lock. */
export interface AcquireRequest {
  /** The full store key (prefix + name). */
  key: string
  /** A fresh token of ≥128 random bits identifying this grant. */
  owner: string
  /** `exclusive` or `shared`. */
  mode: LockMode
  /** How long the store keeps the lock if its holder vanishes, in ms. */
  ttlMs: number
  /**
   * The id of the manager asking (one per `LockManager`). Stores may use it to keep contended
   * locks fair across managers: a manager that just released must not always win the next round
   * against managers that were woken by that release.
   */
  clientId: string
  /** True when this attempt follows a refusal (the manager has been waiting for this lock). */
  waiting: boolean
  /**
   * While waiting, the manager asks again within this many ms (its `sleep`). A store that queues
   * waiters for fairness can forget a waiter that has not asked for a few of these periods.
   */
  pollMs: number
  /**
   * True when the request gives up at its first refusal (`ifAvailable`, `timeout: 0`): its refusal
   * must not list the manager as waiting (see {@link LockStore.waiters}). Absent means false: the
   * request waits.
   */
  once?: boolean
}

/** One hold to renew, as `extend(key, owner, ttlMs)` would. */
export interface Renewal {
  key: string
  owner: string
  ttlMs: number
}

/** A forced take-over. */
export interface StealRequest {
  key: string
  owner: string
  ttlMs: number
  clientId: string
}

export type LockMode = 'exclusive' | 'shared'

export interface Granted {
  /** Strictly increasing per key across every client: hand it to storage that must reject stale writers. */
  fencingToken: number
}

export type AcquireResult =
  | ({ granted: true } & Granted)
  | {
      granted: false
      /** The holder's remaining ttl in ms, when the store knows it: a bound on how long to wait before trying again. */
      retryInMs?: number
    }

/** A live hold on a key, as the store sees it. */
export interface Holder {
  owner: string
  mode: LockMode
  /** Remaining lifetime in ms by the store's clock, when the store knows it. */
  expiresInMs?: number
}

/** A manager waiting for a key, as `LockStore.waiters` reports it. */
export interface Waiter {
  /** The waiting manager's `clientId` (`AcquireRequest.clientId` of its refused attempt). */
  clientId: string
  /** The mode its last refused attempt asked for. */
  mode: LockMode
}

/** One held lock, as `LockStore.list` reports it. */
export interface LockListing {
  /** The full store key (prefix + name). */
  key: string
  /** Its live holders; never empty. */
  holders: Holder[]
  /** The last fencing token granted for this key, when the store keeps one per key. */
  fencingToken?: number
}

export type Unsubscribe = () => void
