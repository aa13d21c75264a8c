import type { LockHandle } from '../lock-handle.js'
import type { LockManager } from '../lock-manager.js'
import { internalsOf } from '../manager-internals.js'
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

/** What an abandoned early transaction is rolled back with; nobody sees it. */
const ABANDONED = new Error('cachelock: early transaction abandoned: its lock has to wait')

/**
 * An `EarlyStart` for a transaction an ORM opens only around a callback (Prisma's
 * `$transaction(fn)`, TypeORM's `manager.transaction(fn)`): `open` is called with a callback that
 * hands out the transaction's client and returns a promise settling with the body's work once the
 * locks are granted (`run`). Abandoned (a lock has to wait), the callback rejects at once, so the
 * ORM rolls the transaction back and gives its connection back; the adapter then begins a fresh one
 * once its locks are granted, as without this.
 */
export class EarlyTransaction<Tx> implements EarlyStart {
  readonly #open: (callback: (tx: Tx) => Promise<unknown>) => Promise<unknown>
  /** Settles with what the ORM's transaction call settles with. */
  #done: Promise<unknown> | undefined
  #tx: Promise<Tx> | undefined
  /** Ends the transaction's callback: with the body's work (commit or roll back as it settles), or abandoned. */
  #finish: ((work: Promise<unknown>) => void) | undefined

  constructor(open: (callback: (tx: Tx) => Promise<unknown>) => Promise<unknown>) {
    this.#open = open
  }

  begin(): void {
    let handOut!: (tx: Tx) => void
    this.#tx = new Promise<Tx>((resolve) => (handOut = resolve))
    const finished = new Promise<unknown>((resolve) => (this.#finish = resolve))
    // Abandoned before BEGIN has completed: the ORM takes it up (and rolls back) only then.
    finished.catch(() => undefined)
    this.#done = this.#open((tx) => {
      handOut(tx)
      return finished
    })
    // Abandoned, or failed before anyone took it over (no connection): nobody awaits it then.
    this.#done.catch(() => undefined)
  }

  abandon(): void {
    const finish = this.#finish
    this.#finish = undefined
    finish?.(Promise.reject(ABANDONED))
  }

  /**
   * `body` in the transaction begun early, as the ORM's transaction call would run it;
   * `undefined` when none was begun or it was abandoned.
   */
  run<T>(body: (tx: Tx) => Promise<T>): Promise<T> | undefined {
    const finish = this.#finish
    if (!finish) return undefined
    this.#finish = undefined
    // Called here, in the caller's async context (its record locks, its scope), not the callback's.
    void this.#tx!.then((tx) => {
      let work: Promise<T>
      try {
        work = body(tx)
      } catch (error) {
        work = Promise.reject(error)
      }
      finish(work)
    })
    return this.#done as Promise<T>
  }
}
