/** Messages between the held-locks case and its worker (see held-locks-worker.ts). */
export interface HeldLocksRequest {
  redisUrl: string
  namespace: string
  /** Renewal is counted for each configuration in turn: `locks` held, each with `ttlMs`. */
  configs: { locks: number; ttlMs: number }[]
  /** How long renewals are counted per configuration: a whole number of every ttl/3. */
  windowMs: number
}

export interface HeldLocksResult {
  /** Heap growth per held lock (handle, lease, timers, queue entry), after a full GC, bytes. */
  heapBytesPerLock: number
  /** The number of locks the heap was measured with. */
  heapLocks: number
  configs: {
    locks: number
    ttlMs: number
    /** Automatic renewals that completed in the window. */
    renewals: number
    /** Redis commands the store sent in the window (every one an EVALSHA). */
    commands: number
    /** Locks that reported themselves lost in the window (renewal too late or refused). */
    lost: number
    /** How long acquiring all of them took, ms. */
    acquireMs: number
  }[]
}
