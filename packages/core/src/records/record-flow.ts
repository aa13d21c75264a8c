import { ScopedStorage } from './scoped-storage.js'
import { LockOrderError } from '../errors.js'
import { publish } from '../events.js'
import type { LockHandle } from '../lock-handle.js'
import type { LockManager } from '../lock-manager.js'
import type { Lock } from '../lock.js'

/** A record lock held by the current async flow. */
export interface HeldRecordLock {
  readonly name: string
  readonly lock: Lock
  /** What the adapter attached when it took the lock (e.g. the transaction client), for nested calls. */
  readonly context: unknown
  /**
   * False once the scope that holds it has ended, or its lock was released. Work started inside a
   * scope that outlives it (a timer, a detached promise) inherits the async context, and must not
   * think it holds the lock. A lock lost while its scope runs stays alive, so the scope's own writes
   * meet the `LockLostError` of its `signal` rather than pass as a stranger's.
   */
  readonly alive: boolean
}

/**
 * The locks one scope owns (a `withRecordLocks` call, or a handle's `runInRecordLock`), together
 * with the locks nested calls joined to it (`join`): all are visible through `entries`, and the
 * ones in `handles` are released when the scope ends.
 */
export interface LockScope {
  ended: boolean
  /** Shared by reference: joined entries appear here for everyone who looks up the scope. */
  readonly entries: Map<string, Entry>
  readonly handles: LockHandle[]
}

/** One name this flow holds or is acquiring. */
export class Entry implements HeldRecordLock {
  readonly name: string
  readonly context: unknown
  /** The scope it belongs to: it is held by this flow until that scope ends. */
  readonly scope: LockScope
  /** Settles with the lock once granted: concurrent joiners of one name wait for one acquisition. */
  readonly ready: Promise<Lock>
  #lock: Lock | undefined
  #settle!: (lock: Lock) => void
  #fail!: (error: unknown) => void

  constructor(name: string, context: unknown, scope: LockScope) {
    this.name = name
    this.context = context
    this.scope = scope
    this.ready = new Promise<Lock>((resolve, reject) => {
      this.#settle = resolve
      this.#fail = reject
    })
    // Nobody may be waiting on it; a failed acquisition is reported to its own caller.
    this.ready.catch(() => undefined)
  }

  get lock(): Lock {
    if (!this.#lock) throw new Error(`Record lock ${JSON.stringify(this.name)} is not granted yet`)
    return this.#lock
  }

  get granted(): boolean {
    return this.#lock !== undefined
  }

  get alive(): boolean {
    const lock = this.#lock
    return lock !== undefined && !this.scope.ended && (lock.held || lock.signal.aborted)
  }

  grant(lock: Lock): void {
    this.#lock = lock
    this.#settle(lock)
  }

  fail(error: unknown): void {
    this.#fail(error)
  }
}

/** Per manager, the record locks this flow holds. */
export type FlowLocks = ReadonlyMap<LockManager, ReadonlyMap<string, Entry>>

// On globalThis under a registered symbol, like the default manager: every copy of this package
// in the process (an adapter that resolved its own) must agree on what this flow holds.
// Only ever entered with `run`, around the holder's own callback. Entering it for the rest of the
// current async context instead would mark whatever async resource is running (an HTTP parser's,
// for a request without a body), and every later callback on it (the next request on that
// keep-alive connection) would count as the holder.
// A ScopedStorage: enabled only while a holder's callback runs (see scoped-storage.ts).
const slot = Symbol.for('cachelock.recordLockFlow.v3')
export const flow = ((globalThis as Record<symbol, unknown>)[slot] ??= new ScopedStorage<FlowLocks>()) as ScopedStorage<FlowLocks>

/** The record locks of this flow in `manager`, live or not. */
export function flowEntries(manager: LockManager): ReadonlyMap<string, Entry> | undefined {
  return flow.getStore()?.get(manager)
}

/** A copy of the current flow store with `manager`'s entries replaced. */
export function withEntries(manager: LockManager, entries: ReadonlyMap<string, Entry>): FlowLocks {
  const scope = new Map(flow.getStore())
  scope.set(manager, entries)
  return scope
}

/** The live record lock `name` this async flow holds in `manager`, if any. */
export function heldRecordLock(manager: LockManager, name: string): HeldRecordLock | undefined {
  const entry = flowEntries(manager)?.get(name)
  return entry?.alive ? entry : undefined
}

/**
 * Whether this async flow holds `name` in `manager`, or a call in it is still acquiring it (a
 * nested call joining the same scope). A lock that is not reentrant (a plain `acquire()`) asked
 * for then would wait for this flow itself: refuse it instead.
 */
export function recordLockClaimed(manager: LockManager, name: string): boolean {
  const entry = flowEntries(manager)?.get(name)
  return entry !== undefined && (entry.alive || pending(entry))
}

/** Granted nowhere yet, but on its way in a scope that has not ended. */
function pending(entry: Entry): boolean {
  return !entry.granted && !entry.scope.ended
}

/** The live record locks this async flow holds in `manager`. */
export function heldRecordLocks(manager: LockManager): HeldRecordLock[] {
  return [...(flowEntries(manager)?.values() ?? [])].filter((entry) => entry.alive)
}

/**
 * Publish (and with `strict`, throw) when this flow holds a record lock that sorts after one of
 * `names` it is about to take: another flow taking the same two in sorted order can deadlock
 * with this one. `also` adds names held elsewhere (a joined scope's).
 */
export function checkLockOrder(manager: LockManager, names: readonly string[], strict: boolean, also: Iterable<HeldRecordLock> = []): void {
  if (names.length === 0) return
  const first = [...names].sort()[0]!
  // Names still being acquired count too: they will be held, by this flow, alongside these.
  const counts = (held: HeldRecordLock) => held.alive || (held instanceof Entry && pending(held))
  for (const held of [...(flowEntries(manager)?.values() ?? []), ...also]) {
    if (counts(held) && held.name > first) {
      publish('lockOrder', () => ({ name: first, heldName: held.name, thrown: strict }))
      if (strict) throw new LockOrderError(first, held.name)
      return
    }
  }
}
