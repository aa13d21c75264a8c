import { LockError, LockNotOwnedError } from '../errors.js'
import type { LockHandle } from '../lock-handle.js'
import type { LockManager } from '../lock-manager.js'
import type { Lock } from '../lock.js'
import type { LockOptions } from '../options.js'
import { invalid } from '../validate.js'
import { acquireBeside, mayStartEarly, type EarlyStart } from './early-start.js'
import { Entry, checkLockOrder, flow, flowEntries, withEntries, type LockScope, type HeldRecordLock } from './record-flow.js'

export interface RecordLockOptions extends LockOptions {
  /**
   * Throw `LockOrderError` when a record lock is requested inside another that sorts after it (an
   * order that can deadlock against a flow taking both the other way). The event
   * `cachelock:lock-order` is published either way. A development setting: it turns a rare
   * production deadlock into an immediate error.
   * @default false
   */
  strictLockOrder?: boolean
  /**
   * Join the scope of this enclosing record lock: the new locks are held until that scope ends
   * (not just until this call returns), are visible to everyone in it, and concurrent joiners of one
   * name share one acquisition. For a nested call whose writes join the enclosing transaction: they
   * become visible to others only when it commits, so releasing the nested call's locks when it
   * returns would let another holder read the old row and overwrite the change.
   */
  join?: HeldRecordLock
  /**
   * Work to begin beside the lock requests rather than after them, when they are likely granted
   * at once (this manager holds and waits for none of the names, and none had to wait in the last
   * second); abandoned as soon as one has to wait (see `EarlyStart`). Not with `join`.
   */
  early?: EarlyStart
}

/**
 * Hold the record locks `names` while `body` runs, then release them however it ends.
 *
 * - Names are deduplicated and taken in sorted order, so two flows locking {1, 2} and {2, 1}
 *   cannot deadlock; on failure the ones already taken are released.
 * - Reentrant per async flow: a name this flow already holds is not taken again, so a nested call
 *   on the same record does not deadlock; another flow still waits.
 * - `context` is attached to the newly taken locks (see `heldRecordLock`).
 * - With `join`, the new locks belong to the enclosing scope instead (see `RecordLockOptions.join`).
 *
 * `body` receives the locks in the order of the sorted names, and for each whether it was
 * already held (reused) rather than taken by this call. The outcome is the body's: a release the
 * store fails afterwards is published on the `released` channel, and its lock frees at its ttl.
 */
export async function withRecordLocks<T>(
  manager: LockManager,
  names: readonly string[],
  options: RecordLockOptions,
  context: unknown,
  body: (locks: Lock[], reentered: boolean[]) => Promise<T>,
): Promise<T> {
  const { strictLockOrder = false, join, early: beside, ...lockOptions } = options
  const joined = join === undefined ? undefined : scopeOf(join)
  const sorted = [...new Set(names)].sort()
  const current = flowEntries(manager)
  const known = (name: string): Entry | undefined => {
    const mine = current?.get(name)
    if (mine?.alive) return mine
    const theirs = joined?.entries.get(name)
    return theirs && (theirs.alive || !theirs.granted) ? theirs : undefined
  }
  const reused = sorted.map(known)
  const fresh = sorted.filter((_, i) => !reused[i])
  checkLockOrder(manager, fresh, strictLockOrder, joined?.entries.values())

  const scope: LockScope = joined ?? {
    ended: false,
    entries: new Map([...(current ?? [])].filter(([, entry]) => entry.alive)),
    handles: [],
  }
  // Registered before the first await, so a concurrent joiner of the same name waits for this
  // acquisition rather than requesting the lock again (and waiting for itself).
  const entries = fresh.map((name) => new Entry(name, context, scope))
  for (const entry of entries) scope.entries.set(entry.name, entry)
  const mine: LockHandle[] = []
  const early = beside && !joined && fresh.length > 0 && mayStartEarly(manager, fresh) ? beside : undefined
  early?.begin()
  try {
    for (const entry of entries) {
      const entryOptions = { ...lockOptions, releaseOnFinalize: false }
      const handle = await (early ? acquireBeside(manager, entry.name, entryOptions, early) : manager.acquire(entry.name, entryOptions))
      mine.push(handle)
      if (scope.ended)
        throw new LockError(
          `The enclosing record lock ${JSON.stringify(join?.name)} ended while ${JSON.stringify(entry.name)} was being locked`,
        )
      scope.handles.push(handle)
      entry.grant(handle)
    }
  } catch (error) {
    early?.abandon()
    for (const entry of entries) {
      entry.fail(error)
      if (scope.entries.get(entry.name) === entry) scope.entries.delete(entry.name)
    }
    for (const handle of mine) {
      const at = scope.handles.indexOf(handle)
      if (at !== -1) scope.handles.splice(at, 1)
    }
    await releaseAll(mine).catch(() => undefined)
    throw error
  }
  let next = 0
  // Nothing reused (the common case): every lock is one just granted, no need to wait a turn.
  const locks =
    fresh.length === sorted.length
      ? entries.map((entry) => entry.lock)
      : await Promise.all(sorted.map((_, i) => reused[i]?.ready ?? Promise.resolve(entries[next++]!.lock)))

  // An owning scope runs with its own entry map, live: locks nested calls join later are visible
  // to it (and to the rest of its flow). A joined call sees its flow plus the scope, as of now.
  const visible = joined ? new Map([...(current ?? []), ...[...scope.entries].filter(([, entry]) => entry.granted)]) : scope.entries
  const run = () => flow.run(withEntries(manager, visible), () => body(locks, reused.map(Boolean)))
  // A joined call's locks are the enclosing scope's to release.
  if (joined) return run()
  let result: T
  try {
    result = await run()
  } catch (error) {
    early?.abandon()
    // The body's failure is the outcome; a failed release is on the `released` channel, and the
    // store's ttl frees the lock.
    await end(scope).catch(() => undefined)
    throw error
  }
  early?.abandon()
  // The body's work is done (an adapter's transaction has committed): its result is the outcome.
  // A release the store fails is published on the `released` channel (with the error), and the
  // store's ttl frees the lock. Rejecting here would report work that committed as failed, and a
  // caller that retries on a store error would do it twice.
  await end(scope).catch(() => undefined)
  return result
}

function scopeOf(join: HeldRecordLock): LockScope {
  const scope = join instanceof Entry ? join.scope : undefined
  if (!scope) throw invalid('options.join', 'a record lock held through withRecordLocks (from heldRecordLock)', join)
  if (scope.ended) throw new LockError(`Cannot join record lock ${JSON.stringify(join.name)}: its scope has ended`)
  return scope
}

export async function end(scope: LockScope): Promise<void> {
  scope.ended = true
  await releaseAll(scope.handles)
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
