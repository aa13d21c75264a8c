import type { LockHandle } from '../lock-handle.js'
import { internalsOf, type LockManager } from '../lock-manager.js'
import type { AcquireOptions } from '../options.js'

/**
 * Work an adapter begins beside the lock requests instead of after them (a transaction's BEGIN),
 * when the locks are likely granted at once: the two round trips then overlap. What began must
 * not be held while a request waits (a database connection, kept while waiting for a lock,
 * starves the holders that need one), so it is abandoned the moment one has to.
 */
export interface EarlyStart {
  /** Called before the first lock request, when none is expected to wait. */
  begin(): void
  /**
   * Called after `begin` when a request has to wait or fails, and when the body is done (in case
   * it did not take over what began). May be called more than once.
   */
  abandon(): void
}

/** After a request for a name had to wait, nothing is begun early for it for this long: it is contended. */
export const CONTENDED_MS = 1000
/** Names remembered as contended, per manager; beyond it the oldest are forgotten. */
const REMEMBERED = 1000

const waitedAt = new WeakMap<LockManager, Map<string, number>>()

/**
 * Whether work may begin beside the requests for `names`: `manager` is of this copy of the
 * package, it holds, waits for and asks for none of them, and none of them had to wait lately.
 */
export function mayStartEarly(manager: LockManager, names: readonly string[]): boolean {
  const internals = internalsOf(manager)
  if (!internals) return false
  const waited = waitedAt.get(manager)
  const now = performance.now()
  return names.every((name) => internals.idle(name) && !(now - (waited?.get(name) ?? -Infinity) < CONTENDED_MS))
}

/** `manager.acquire`, abandoning `early` (and remembering `name` as contended) as soon as the request has to wait. */
export function acquireBeside(manager: LockManager, name: string, options: AcquireOptions, early: EarlyStart): Promise<LockHandle> {
  const internals = internalsOf(manager)!
  const waits = () => {
    remember(manager, name)
    early.abandon()
  }
  // A name after the first, taken after the ones before it were granted: busy here by now.
  if (!internals.idle(name)) {
    waits()
    return manager.acquire(name, options)
  }
  return internals.acquire(name, options, waits)
}

function remember(manager: LockManager, name: string): void {
  let waited = waitedAt.get(manager)
  if (!waited) waitedAt.set(manager, (waited = new Map<string, number>()))
  waited.delete(name)
  waited.set(name, performance.now())
  if (waited.size > REMEMBERED) waited.delete(waited.keys().next().value!)
}
