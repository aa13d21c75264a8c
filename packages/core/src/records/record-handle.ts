import { LockNotOwnedError } from '../errors.js'
import type { LockHandle } from '../lock-handle.js'
import type { LockManager } from '../lock-manager.js'
import type { Lock } from '../lock.js'
import { invalid } from '../validate.js'
import { Entry, flow, flowEntries, withEntries, type LockScope } from './record-flow.js'
import { end } from './record-scope.js'

/**
 * A `LockHandle` from an adapter's `lock()`. Holding it makes no code the holder by itself: the
 * handle is a plain lock. `run(fn)` runs `fn`, and everything it awaits or starts, as the holder of
 * the record lock (see `runInRecordLock`).
 */
export interface RecordLockHandle extends LockHandle {
  /**
   * Run `fn` as this lock's holder: nested record locks on the same record reuse it, the TypeORM
   * guard lets `fn`'s writes through, and lock-order checks see it. Only inside `fn`, and only
   * while the handle holds the lock. Resolves with `fn`'s result; rejects at once when the handle no
   * longer holds its lock.
   */
  run<T>(fn: () => T): Promise<Awaited<T>>
}

/**
 * Run `fn` as the holder of `lock` (a handle from `manager.acquire()` on a record lock name): for
 * as long as `fn` runs and the lock is held, `heldRecordLock(manager, lock.name)` finds it in `fn`'s
 * async flow (and in what `fn` starts), so nested `withRecordLocks` reuse it and `checkLockOrder`
 * sees it. Nothing outside `fn` is marked: the scope is an `AsyncLocalStorage.run`, which ends
 * with `fn`, and work `fn` leaves behind (a timer, a detached promise) stops counting as the
 * holder when `fn` settles. Rejects when the lock is no longer held: with its `LockLostError` when
 * it was lost, with `LockNotOwnedError` when it was released.
 *
 * Record locks that calls inside `fn` join to this scope (`join`) are released when `fn` settles;
 * `lock` itself stays the caller's to release.
 */
export async function runInRecordLock<T>(manager: LockManager, lock: Lock, fn: () => T, context: unknown = undefined): Promise<Awaited<T>> {
  if (!isLock(lock)) throw invalid('lock', 'a Lock or LockHandle (from acquire())', lock)
  if (typeof fn !== 'function') throw invalid('fn', 'a function', fn)
  if (!lock.held) {
    if (lock.signal.aborted) throw lock.signal.reason
    throw new LockNotOwnedError(
      lock.name,
      `Lock ${JSON.stringify(lock.name)} is not held by this handle (released): run() has no lock to hold`,
    )
  }
  const live = [...(flowEntries(manager) ?? [])].filter(([, entry]) => entry.alive)
  const scope: LockScope = { ended: false, entries: new Map(live), handles: [] }
  const entry = new Entry(lock.name, context, scope)
  entry.grant(lock)
  scope.entries.set(lock.name, entry)
  let result: Awaited<T>
  try {
    result = await flow.run(withEntries(manager, scope.entries), fn)
  } catch (error) {
    // fn's failure is the outcome; a failed release of a joined lock is on the `released` channel.
    await end(scope).catch(() => undefined)
    throw error
  }
  await end(scope)
  return result
}

/**
 * Give an adapter's handle its `run(fn)`: `runInRecordLock(manager, handle, fn, context)`. The
 * method lives on the handle itself, so nothing else keeps the handle reachable.
 */
export function recordLockHandle(manager: LockManager, handle: LockHandle, context: unknown = undefined): RecordLockHandle {
  Object.defineProperty(handle, 'run', {
    value: <T>(fn: () => T) => runInRecordLock(manager, handle, fn, context),
    configurable: true,
    writable: true,
  })
  return handle as RecordLockHandle
}

// Duck-typed, so a lock made by another copy of this package is accepted too.
function isLock(value: unknown): value is Lock {
  if (typeof value !== 'object' || value === null) return false
  const lock = value as Partial<Lock>
  return typeof lock.name === 'string' && typeof lock.held === 'boolean' && lock.signal instanceof AbortSignal
}
