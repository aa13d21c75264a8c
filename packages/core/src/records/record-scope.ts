import { AsyncLocalStorage } from 'node:async_hooks'
import { LockNotOwnedError, LockOrderError } from '../errors.js'
import { publish } from '../events.js'
import type { LockHandle } from '../lock-handle.js'
import type { LockManager } from '../lock-manager.js'
import type { Lock } from '../lock.js'
import type { LockOptions } from '../options.js'

/** A record lock held by the current async flow. */
export interface HeldRecordLock {
  readonly name: string
  readonly lock: Lock
  /** What the adapter attached when it took the lock (e.g. the transaction client), for nested calls. */
  readonly context: unknown
  /**
   * False once the `withRecordLocks` that took it has finished. Work started inside it that outlives
   * it (a timer, a detached promise) inherits the async context, and must not think it holds the lock.
   */
  readonly alive: boolean
}

interface MutableHeld extends HeldRecordLock {
  lock: Lock
  alive: boolean
  /** Registered with `enterRecordLock`: counts only once bound, and while its handle holds the lock. */
  handle?: LockHandle | undefined
  /** `false` while an `enterRecordLock` entry waits for its handle. */
  bound?: boolean
}

/** Per manager, the record locks this flow holds. */
type FlowLocks = ReadonlyMap<LockManager, ReadonlyMap<string, MutableHeld>>

// On globalThis under a registered symbol, like the default manager: every copy of this package
// in the process (an adapter that resolved its own) must agree on what this flow holds.
const slot = Symbol.for('cachelock.recordLockFlow')
const flow = ((globalThis as Record<symbol, unknown>)[slot] ??= new AsyncLocalStorage<FlowLocks>()) as AsyncLocalStorage<FlowLocks>

/** The live record lock `name` this async flow holds in `manager`, if any. */
export function heldRecordLock(manager: LockManager, name: string): HeldRecordLock | undefined {
  const held = flow.getStore()?.get(manager)?.get(name)
  return held && isAlive(held) ? held : undefined
}

/** The live record locks this async flow holds in `manager`. */
export function heldRecordLocks(manager: LockManager): HeldRecordLock[] {
  return [...(flow.getStore()?.get(manager)?.values() ?? [])].filter(isAlive)
}

/**
 * Count a lock taken outside `withRecordLocks` (a `LockHandle` from `acquire()`) as held by the
 * current async flow: `heldRecordLock` finds it (nested record locks reuse it) and
 * `checkLockOrder` sees it, from the moment the returned function is called with the granted
 * handle, for as long as that handle holds the lock.
 *
 * There is no callback scope to run the caller's remaining work in, so this uses
 * `AsyncLocalStorage.enterWith`, which changes the context of the code running now and of what it
 * awaits or starts later. It must therefore be called **synchronously in the caller's stretch,
 * before the first `await`** (inside an async function, after an `await`, it would only mark that
 * function's own continuation): call it, then acquire, then bind the handle.
 *
 * ```ts
 * lock(name) {                                  // not async: runs in the caller's stretch
 *   const bind = enterRecordLock(locks, name)
 *   return locks.acquire(name).then((handle) => (bind(handle), handle))
 * }
 * ```
 *
 * `enterWith` also reaches whatever else runs later in the same synchronous stretch, e.g. the
 * next branch of a `Promise.all` that started it: those count as holders too.
 */
export function enterRecordLock(manager: LockManager, name: string, context: unknown = undefined): (handle: LockHandle) => void {
  const held: MutableHeld = { name, lock: undefined as unknown as Lock, context, alive: true, handle: undefined, bound: false }
  // Copy, never mutate: a context captured earlier (a sibling flow) must not gain this lock.
  // Drop entries that ended, so a long-lived context does not accumulate them.
  const parent = flow.getStore()
  const mine = new Map([...(parent?.get(manager) ?? [])].filter(([, entry]) => isAlive(entry) || entry.bound === false))
  mine.set(name, held)
  const scope = new Map(parent)
  scope.set(manager, mine)
  flow.enterWith(scope)
  return (handle) => {
    held.lock = handle
    held.handle = handle
    held.bound = true
  }
}

// A `withRecordLocks` lock stays this flow's until its block ends, even if lost meanwhile: a
// nested call then reuses it and fails at the adapter's commit check, rather than queueing behind
// the new holder while this flow's transaction still holds the rows.
function isAlive(held: MutableHeld): boolean {
  if (held.bound === false) return false
  return held.alive && (held.handle === undefined || held.handle.held)
}

export interface RecordLockOptions extends LockOptions {
  /**
   * Throw `LockOrderError` when a record lock is requested inside another that sorts after it (an
   * order that can deadlock against a flow taking both the other way). The event
   * `cachelock:lock-order` is published either way. A development setting: it turns a rare
   * production deadlock into an immediate error.
   * @default false
   */
  strictLockOrder?: boolean
}

/**
 * Hold the record locks `names` while `body` runs, then release them however it ends.
 *
 * - Names are deduplicated and taken in sorted order, so two flows locking {1, 2} and {2, 1}
 *   cannot deadlock; on failure the ones already taken are released.
 * - Reentrant per async flow: a name this flow already holds (alive) is not taken again, so a
 *   nested call on the same record does not deadlock; another flow still waits.
 * - `context` is attached to the newly taken locks (see `heldRecordLock`).
 *
 * `body` receives the locks in the order of the sorted names (reused ones included).
 */
export async function withRecordLocks<T>(
  manager: LockManager,
  names: readonly string[],
  options: RecordLockOptions,
  context: unknown,
  body: (locks: Lock[], reentered: boolean[]) => Promise<T>,
): Promise<T> {
  const { strictLockOrder = false, ...lockOptions } = options
  const sorted = [...new Set(names)].sort()
  const reused = sorted.map((name) => heldRecordLock(manager, name))
  checkLockOrder(
    manager,
    sorted.filter((_, i) => !reused[i]),
    strictLockOrder,
  )
  const handles: LockHandle[] = []
  try {
    for (let i = 0; i < sorted.length; i++) {
      if (!reused[i]) handles.push(await manager.acquire(sorted[i]!, { ...lockOptions, releaseOnFinalize: false }))
    }
  } catch (error) {
    await releaseAll(handles)
    throw error
  }
  const taken: MutableHeld[] = handles.map((lock) => ({ name: lock.name, lock, context, alive: true }))
  let next = 0
  const locks = sorted.map((_, i) => reused[i]?.lock ?? taken[next++]!.lock)
  const parent = flow.getStore()
  const mine = new Map(parent?.get(manager))
  for (const held of taken) mine.set(held.name, held)
  const scope = new Map(parent)
  scope.set(manager, mine)
  let result: T
  try {
    result = await flow.run(scope, () => body(locks, reused.map(Boolean)))
  } catch (error) {
    for (const held of taken) held.alive = false
    // The body's failure is the outcome; a failed release is on the `released` channel, and the
    // store's ttl frees the lock.
    await releaseAll(handles).catch(() => undefined)
    throw error
  }
  for (const held of taken) held.alive = false
  await releaseAll(handles)
  return result
}

/**
 * Publish (and with `strict`, throw) when this flow holds a record lock that sorts after one of
 * `names` it is about to take.
 */
export function checkLockOrder(manager: LockManager, names: readonly string[], strict: boolean): void {
  if (names.length === 0) return
  const first = [...names].sort()[0]!
  for (const held of heldRecordLocks(manager)) {
    if (held.name > first) {
      publish('lockOrder', () => ({ name: first, heldName: held.name, thrown: strict }))
      if (strict) throw new LockOrderError(first, held.name)
      return
    }
  }
}

// Release in reverse order of taking. Every release is attempted; a lock already lost is not a
// failure here (there is nothing left to release, and the body has already seen the loss through
// the lock's signal); the first store failure is reported.
async function releaseAll(handles: LockHandle[]): Promise<void> {
  let failure: unknown
  for (const handle of [...handles].reverse()) {
    if (!handle.held) continue
    await handle.release().catch((error: unknown) => {
      if (!(error instanceof LockNotOwnedError)) failure ??= error
    })
  }
  if (failure !== undefined) throw failure
}
