import type { LockHandle } from './lock-handle.js'
import type { LockManager } from './lock-manager.js'
import type { AcquireOptions } from './options.js'

/**
 * What adapter-kit needs of a manager beyond its public API: work begun beside the lock requests
 * (`records/early-start.ts`) must know whether a request would wait, and hear when one has to.
 * Kept beside the manager rather than on it, so none of it is public API.
 */
export interface ManagerInternals {
  /** Whether this manager holds, waits for and is asking for nothing of `name`. */
  idle(name: string): boolean
  /** `acquire`, calling `onWait` once if the request has to wait for the lock. */
  acquire(name: string, options: AcquireOptions | undefined, onWait: () => void): Promise<LockHandle>
}

const internals = new WeakMap<LockManager, ManagerInternals>()

/** Called by each manager as it is made. */
export function registerInternals(manager: LockManager, parts: ManagerInternals): void {
  internals.set(manager, parts)
}

/** `manager`'s internals; `undefined` for a manager of another copy of this package. */
export function internalsOf(manager: LockManager): ManagerInternals | undefined {
  return internals.get(manager)
}
