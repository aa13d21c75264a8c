import type { EarlyStart } from '@cachelock/core/adapter-kit'

type TransactionClient = { $transaction(fn: (tx: unknown) => Promise<unknown>, options?: object): Promise<unknown> }

/** What an abandoned early transaction is rolled back with; nobody sees it. */
const ABANDONED = new Error('cachelock: early transaction abandoned: its lock has to wait')

/**
 * `withLock`'s transaction, begun beside the lock requests (core's `EarlyStart`): when the lock is
 * free, BEGIN and the acquire overlap instead of following each other. Prisma opens an interactive
 * transaction only around a callback, so the callback here hands out its `tx` and returns a promise
 * that settles with `fn`'s work once the lock is granted (`run`). If a request has to wait, the
 * transaction is rolled back at once (`abandon`), so no connection is held while waiting, and
 * `withLock` begins a fresh one once its locks are granted, as without this.
 */
export class EarlyTransaction implements EarlyStart {
  readonly #client: TransactionClient
  readonly #options: object
  /** Settles with what Prisma's `$transaction` settles with. */
  #done: Promise<unknown> | undefined
  #tx: Promise<unknown> | undefined
  /** Ends the transaction's callback: with `fn`'s work (commit or roll back as it settles), or abandoned. */
  #finish: ((work: Promise<unknown>) => void) | undefined

  constructor(client: TransactionClient, options: object) {
    this.#client = client
    this.#options = options
  }

  begin(): void {
    let handOut!: (tx: unknown) => void
    this.#tx = new Promise((resolve) => (handOut = resolve))
    const finished = new Promise<unknown>((resolve) => (this.#finish = resolve))
    // Abandoned before BEGIN has completed: Prisma takes it up (and rolls back) only then.
    finished.catch(() => undefined)
    this.#done = this.#client.$transaction((tx) => {
      handOut(tx)
      return finished
    }, this.#options)
    // Abandoned, or failed before anyone took it over (no connection): nobody awaits it then.
    this.#done.catch(() => undefined)
  }

  abandon(): void {
    const finish = this.#finish
    this.#finish = undefined
    finish?.(Promise.reject(ABANDONED))
  }

  /**
   * `body` in the transaction begun early, as Prisma's `$transaction(body)` would run it;
   * `undefined` when none was begun or it was abandoned.
   */
  run<T>(body: (tx: unknown) => Promise<T>): Promise<T> | undefined {
    const finish = this.#finish
    if (!finish) return undefined
    this.#finish = undefined
    // Called here, in the caller's async context (its locks, its scope), not in the callback's.
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
