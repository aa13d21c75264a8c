import { AsyncLocalStorage } from 'node:async_hooks'
import type { Lock, LockManager } from '@cachelock/core'
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
 * What one `withLock` transaction holds: its transaction client, and every record lock taken
 * for it, by the call that started it and by nested calls that joined it.
 *
 * A nested `withLock` on another record joins the enclosing transaction (SQLite has one writer,
 * so a second transaction would wait for the first forever), and its writes only become visible
 * when that transaction commits. Its locks are therefore held until then: released when the
 * nested call returned, another flow could read the row's old value and overwrite the change.
 */
export class LockScope {
  /** The extension instance (one per `$extends`) whose calls may join this scope. */
  readonly owner: ExtensionState
  readonly manager: LockManager
  /** Whether `fn` runs in a transaction (nested calls join only then). */
  readonly inTransaction: boolean
  /** The client `fn` gets as `tx`: the transaction client, or the client itself without one. Set when it starts. */
  client: unknown
  readonly rows: LockedRow[] = []
  /** Names held for this scope, as promises so concurrent joiners of one name wait for one acquisition. */
  readonly locks = new Map<string, Promise<Lock>>()
  /** Nested calls' acquisitions, each holding its locks until `end()`. */
  readonly holders: Promise<void>[] = []
  /** The first write its fence rejected: the scope must not commit even if `fn` caught it. */
  rejected: unknown
  #alive = true
  #end!: () => void
  readonly #ended = new Promise<void>((resolve) => (this.#end = resolve))

  constructor(owner: ExtensionState, manager: LockManager, inTransaction: boolean) {
    this.owner = owner
    this.manager = manager
    this.inTransaction = inTransaction
  }

  /**
   * False once the transaction has ended. Work started inside `fn` that outlives it (a timer, a
   * detached promise) inherits the async context, and must neither join nor be fenced by it.
   */
  get alive(): boolean {
    return this.#alive
  }

  /** Resolves when the scope ends: nested calls' locks are released then. */
  get ended(): Promise<void> {
    return this.#ended
  }

  /**
   * Before commit: refuse when a fenced write was rejected, then confirm with the store that
   * every lock of the scope is still held (`ensureHeld`: the signal, then one owner check).
   */
  async confirm(): Promise<void> {
    if (this.rejected !== undefined) throw this.rejected
    const locks = new Set<Lock>(this.rows.map((row) => row.lock))
    const outcomes = await Promise.allSettled([...locks].map((lock) => lock.ensureHeld()))
    const failure = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failure) throw failure.reason
  }

  /** End the scope and wait for the nested calls' locks to be released; the first release failure is thrown. */
  async end(): Promise<void> {
    this.#alive = false
    this.#end()
    const outcomes = await Promise.allSettled(this.holders)
    const failure = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failure) throw failure.reason
  }
}

interface Frame {
  readonly scopes: readonly LockScope[]
  /** Set while the adapter runs its own query for a fenced write, so the hook lets it through. */
  readonly internal: boolean
}

// One storage for every extension instance: AsyncLocalStorage instances are never freed, and apps
// that call `$extends` per request would otherwise leak one each.
const frames = new AsyncLocalStorage<Frame>()

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

/** The innermost live transaction scope of `owner`: the one a nested `withLock` joins. */
export function joinableScope(owner: object): LockScope | undefined {
  return liveScopes(owner).findLast((scope) => scope.inTransaction)
}

/**
 * Run one of the adapter's own queries past the fencing hook. Prisma's promises are lazy: the
 * query starts when awaited, so it is awaited in here, where the hook can see the flag.
 */
export async function runInternal<T>(query: () => PromiseLike<T>): Promise<T> {
  return frames.run({ scopes: frames.getStore()?.scopes ?? [], internal: true }, async () => await query())
}
