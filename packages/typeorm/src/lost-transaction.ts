import type { Lock } from '@cachelock/core'
import { ScopedStorage } from '@cachelock/core/adapter-kit'
import type { QueryRunner } from 'typeorm'

/**
 * A `withLock` transaction that ends the moment one of its locks is lost, instead of when `fn`
 * happens to finish: until then it would keep its row locks (on SQLite, the database's only write
 * lock) while the next holder works. After the loss the transaction rolls back and every query of
 * `fn`'s flow on its query runner is refused with the `LockLostError`; `fn` may go on running.
 */
export class LostTransaction {
  /** Aborted with the `LockLostError` of the first watched lock that is lost. */
  readonly #lost = new AbortController()
  readonly #watched = new Map<Lock, () => void>()
  /** The query runner of the transaction, once it started. */
  runner: QueryRunner | undefined

  /** The locks watched, the call's own and those nested calls joined to it: all must hold at commit. */
  get locks(): Lock[] {
    return [...this.#watched.keys()]
  }

  /** The loss that ended the transaction, once there was one. */
  get lost(): unknown {
    return this.#lost.signal.aborted ? (this.#lost.signal.reason as unknown) : undefined
  }

  watch(lock: Lock): void {
    if (this.#watched.has(lock)) return
    const lost = () => this.#lost.abort(lock.signal.reason)
    this.#watched.set(lock, lost)
    if (lock.signal.aborted) lost()
    else lock.signal.addEventListener('abort', lost, { once: true })
  }

  /**
   * Run `fn` (the transaction's work, on `runner`) so that it rejects with the `LockLostError` as
   * soon as a watched lock is lost (TypeORM then rolls the transaction back), and so that its flow's
   * later queries on `runner` are refused.
   */
  run<T>(runner: QueryRunner, fn: () => Promise<T>): Promise<T> {
    this.runner = runner
    gate(runner)
    const work = frames.run([...(frames.getStore() ?? []), this], fn)
    const signal = this.#lost.signal
    if (signal.aborted) {
      work.catch(() => undefined)
      return Promise.reject(signal.reason as Error)
    }
    return new Promise<T>((resolve, reject) => {
      // One turn later: a loss found by fn's own flow (a fenced claim or write that asked the store)
      // rejects the work within this turn with an error that says why (a newer holder claimed the
      // row), and that error is the one to report. Work that completes after the loss never resolves.
      const lost = () => void setImmediate(() => reject(signal.reason as Error))
      signal.addEventListener('abort', lost, { once: true })
      work
        .then((value) => (signal.aborted ? reject(signal.reason as Error) : resolve(value)), reject)
        .finally(() => signal.removeEventListener('abort', lost))
    })
  }

  /** Stop watching (the transaction has ended). A loss already seen keeps refusing `fn`'s queries. */
  end(): void {
    for (const [lock, lost] of this.#watched) lock.signal.removeEventListener('abort', lost)
    this.#watched.clear()
  }
}

// The lost transactions the current flow runs in. Entered only with `run`, around `fn`.
const frames = new ScopedStorage<readonly LostTransaction[]>()
const gated = new WeakSet<QueryRunner>()
// Rolling back is always safe, and TypeORM's own rollback of a nested savepoint runs in fn's flow.
const rollback = /^\s*ROLLBACK\b/i

/**
 * Check every query of `runner` against the flow's lost transactions. The check is on the query
 * runner, not on the manager handed to `fn`, so that it holds however `fn` reaches the runner
 * (`manager`, a repository, a query builder) and on SQLite, where TypeORM runs every query of a
 * data source on one shared runner: there, a query of `fn` after the rollback would otherwise run
 * outside any transaction, or inside another flow's.
 */
function gate(runner: QueryRunner): void {
  if (gated.has(runner)) return
  gated.add(runner)
  // The runner's own method, called with the runner as `this`, as TypeORM calls it.
  const query = Reflect.get(runner, 'query') as (this: QueryRunner, ...args: unknown[]) => Promise<unknown>
  runner.query = function (this: QueryRunner, ...args: unknown[]) {
    const sql = args[0]
    const lost = frames.getStore()?.find((transaction) => transaction.runner === this && transaction.lost !== undefined)?.lost
    if (lost !== undefined && !(typeof sql === 'string' && rollback.test(sql))) return Promise.reject(lost)
    return query.apply(this, args)
  }
}
