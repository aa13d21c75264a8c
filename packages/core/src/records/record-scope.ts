import { AsyncLocalStorage } from 'node:async_hooks'
import { LockOrderError } from '../errors.js'
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
  alive: boolean
}

/** Per manager, the record locks this flow holds. */
type FlowLocks = ReadonlyMap<LockManager, ReadonlyMap<string, MutableHeld>>

const flow = new AsyncLocalStorage<FlowLocks>()

/** The live record lock `name` this async flow holds in `manager`, if any. */
export function heldRecordLock(manager: LockManager, name: string): HeldRecordLock | undefined {
  const held = flow.getStore()?.get(manager)?.get(name)
  return held?.alive ? held : undefined
}

/** The live record locks this async flow holds in `manager`. */
export function heldRecordLocks(manager: LockManager): HeldRecordLock[] {
  return [...(flow.getStore()?.get(manager)?.values() ?? [])].filter((held) => held.alive)
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
  try {
    return await flow.run(scope, () => body(locks, reused.map(Boolean)))
  } finally {
    for (const held of taken) held.alive = false
    await releaseAll(handles)
  }
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

// Release in reverse order of taking; every release is attempted, and the first failure reported.
async function releaseAll(handles: LockHandle[]): Promise<void> {
  let failure: unknown
  for (const handle of [...handles].reverse()) {
    if (!handle.held) continue
    await handle.release().catch((error: unknown) => {
      failure ??= error
    })
  }
  if (failure !== undefined) throw failure
}
