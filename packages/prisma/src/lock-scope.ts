import type { Lock } from '@cachelock/core'
import { ScopedStorage } from '@cachelock/core/adapter-kit'
import type { ExtensionState } from './extension-state.js'
import type { ModelInfo } from './model-info.js'

/** A row locked by a `withLock` call, as fenced writes need to recognise it. */
export interface LockedRow {
  readonly model: ModelInfo
  readonly lock: Lock
  /** The row's unique values the lock was taken by (`{ sku: 'A-1' }`). */
  readonly values: Readonly<Record<string, unknown>>
  /** The row as read under the lock; `null` when it did not exist (`missing: 'allow'`). */
  readonly record: Readonly<Record<string, unknown>> | null
}

/**
 * One `withLock` transaction: its client, and the rows read under its locks by the call that
 * started it and by nested calls that joined it. The locks are core's record locks with this scope
 * as their `context`: the starting call holds its own with `withRecordLocks`, nested calls add
 * theirs to that block (`join`), and all are released after this transaction commits or rolls back.
 */
export class LockScope {
  /** The extension instance (one per `$extends`) whose calls may join this scope. */
  readonly owner: ExtensionState
  /** Whether `fn` runs in a transaction (nested calls join only then). */
  readonly inTransaction: boolean
  /** The client `fn` gets as `tx`: the transaction client, or the client itself without one. Set when it starts. */
  client: unknown
  readonly rows: LockedRow[] = []
  /** The first write its fence rejected: the scope must not commit even if `fn` caught it. */
  rejected: unknown
  #alive = true
  /**
   * Set, once, to the `LockLostError` of the first lock of the scope that is lost (wrapped: any
   * value may be a reason). Plain fields, not an `AbortController`: one is made per `withLock`
   * call, and a controller costs more to make than the rest of the scope.
   */
  #lost: { readonly reason: unknown } | undefined
  /** What `untilLost` does when the loss comes. */
  #onLost: (() => void) | undefined
  readonly #watched = new Map<Lock, () => void>()
  /** What else ends with the transaction (the locks a transaction holds itself, `lockIn: 'transaction'`). */
  readonly #onEnd: (() => void)[] = []

  constructor(owner: ExtensionState, inTransaction: boolean) {
    this.owner = owner
    this.inTransaction = inTransaction
  }

  /**
   * False once the transaction has ended. Work started inside `fn` that outlives it (a timer, a
   * detached promise) inherits the async context, and must neither join nor be fenced by it.
   */
  get alive(): boolean {
    return this.#alive
  }

  /**
   * Before commit: refuse when a fenced write was rejected, then confirm with the store that
   * every lock of the scope is still held (`ensureHeld`: the signal, then one owner check).
   */
  confirm(): Promise<void> {
    if (this.rejected !== undefined) return Promise.reject(this.rejected)
    // One lock (the common case): its check is the answer, without a promise around it.
    if (this.rows.length === 1) return this.rows[0]!.lock.ensureHeld()
    return this.#confirmAll()
  }

  async #confirmAll(): Promise<void> {
    const locks = new Set<Lock>(this.rows.map((row) => row.lock))
    const outcomes = await Promise.allSettled([...locks].map((lock) => lock.ensureHeld()))
    const failure = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failure) throw failure.reason
  }

  /**
   * The `LockLostError` of the lock whose loss rolled this scope's transaction back, from then on:
   * queries of `fn`'s flow are refused with it (see `refuseAfterLoss`).
   */
  get lost(): unknown {
    return this.inTransaction ? this.#lost?.reason : undefined
  }

  /** Watch `lock` (the scope's own, or one a nested call joined to it): its loss ends the scope's transaction (`untilLost`). */
  watch(lock: Lock): void {
    if (this.#watched.has(lock)) return
    const lost = () => {
      if (this.#lost) return
      this.#lost = { reason: lock.signal.reason }
      this.#onLost?.()
    }
    this.#watched.set(lock, lost)
    if (lock.signal.aborted) lost()
    else lock.signal.addEventListener('abort', lost, { once: true })
  }

  /**
   * `work`, or a rejection with the `LockLostError` as soon as a watched lock is lost, whichever
   * comes first. Run as the transaction's callback, it makes Prisma roll the transaction back the
   * moment the lock is lost, instead of when `fn` happens to finish: until then the transaction
   * would keep its row locks (on SQLite, the database's only write lock) while another holder works.
   * `fn` may go on running; the rolled-back transaction refuses its queries.
   */
  untilLost<T>(work: Promise<T>): Promise<T> {
    if (this.#lost) {
      work.catch(() => undefined)
      return Promise.reject(this.#lost.reason)
    }
    return new Promise<T>((resolve, reject) => {
      // One turn later: a loss found by fn's own flow (a fenced claim or write that asked the store)
      // rejects the work within this turn with an error that says why (a newer holder claimed the
      // row), and that error is the one to report. Work that completes after the loss never resolves.
      this.#onLost = () => void setImmediate(() => reject(this.#lost!.reason as Error))
      work.then(
        (value) => {
          this.#onLost = undefined
          if (this.#lost) reject(this.#lost.reason)
          else resolve(value)
        },
        (error: unknown) => {
          this.#onLost = undefined
          reject(error)
        },
      )
    })
  }

  /** Call `ended` when the transaction has committed or rolled back. */
  atEnd(ended: () => void): void {
    this.#onEnd.push(ended)
  }

  /** The transaction has committed or rolled back; its locks are released by the block that owns them. */
  end(): void {
    this.#alive = false
    for (const ended of this.#onEnd.splice(0)) ended()
    for (const [lock, lost] of this.#watched) lock.signal.removeEventListener('abort', lost)
    this.#watched.clear()
  }
}

interface Frame {
  readonly scopes: readonly LockScope[]
  /** Set while the adapter runs its own query for a fenced write, so the hook lets it through. */
  readonly internal: boolean
}

// Which scopes this flow writes in, for the fencing hook. Which locks it holds is core's record
// flow (a nested call finds the scope to join there); the hook cannot ask it, because it runs on
// every write, also outside any `withLock`, where resolving the lock manager could create the
// default one (and connect to its store) just to find nothing held.
// One storage for every extension instance: AsyncLocalStorage instances are never freed, and apps
// that call `$extends` per request would otherwise leak one each.
// A ScopedStorage: enabled only while a withLock's fn runs, so queries outside one pay nothing for it.
const frames = new ScopedStorage<Frame>()

/** Run `body` with `scope` added to this flow's scopes. */
export function runInScope<T>(scope: LockScope, body: () => T): T {
  const frame = frames.getStore()
  return frames.run({ scopes: [...(frame?.scopes ?? []), scope], internal: false }, body)
}

/** The live scopes of `owner` in this flow, innermost last. */
export function liveScopes(owner: object): LockScope[] {
  const frame = frames.getStore()
  if (!frame || frame.internal) return []
  return frame.scopes.filter((scope) => scope.owner === owner && scope.alive)
}

/**
 * The query hook of every operation of the client `withLock` runs `fn` with (`tx`): a query made in
 * the flow of a `withLock` whose lock was lost (its transaction rolled back, `fn` still running) is
 * refused with that `LockLostError`, instead of Prisma's "transaction closed". It is not on the
 * client the app uses, where it would cost every query: a write to a fenced row sent through that
 * client is routed into the transaction and refused there; any other query sent through it runs
 * outside the transaction, as it always did.
 */
export function refuseAfterLoss(
  owner: object,
): (params: { args: unknown; query: (args: unknown) => Promise<unknown> }) => Promise<unknown> {
  // Not an async function: it runs on every query of fn, and an async one costs each a few promises.
  return ({ args, query }) => {
    const lost = frames.getStore()?.scopes.find((scope) => scope.owner === owner && scope.lost !== undefined)?.lost
    if (lost !== undefined) return Promise.reject(lost)
    return query(args)
  }
}

/**
 * Run one of the adapter's own queries past the fencing hook. Prisma's promises are lazy: the
 * query starts when awaited, so it is awaited in here, where the hook can see the flag.
 */
export async function runInternal<T>(query: () => PromiseLike<T>): Promise<T> {
  return frames.run({ scopes: frames.getStore()?.scopes ?? [], internal: true }, async () => await query())
}
