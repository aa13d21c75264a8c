import { AsyncLocalStorage } from 'node:async_hooks'

// On Node 20 and 22 an enabled AsyncLocalStorage runs Node's promise hooks for every promise of the
// process, inside a lock or not (about 70 ns each here: a findUnique 1.05×). With AsyncContextFrame
// (Node 24; Node 22 behind a flag) there are no such hooks, and `disable()` means something else.
const hooked = 'kResourceStore' in new AsyncLocalStorage()

/**
 * An `AsyncLocalStorage` that is enabled only while one of its scopes runs: when the last scope's
 * work settles, it is disabled, and the process's promises stop paying for it until the next lock.
 * A scope is `run(store, fn)`; it lasts until the promise `fn` returns settles (or `fn` returns).
 * A continuation that outlives its scope sees no store while none is open (it is not inside the
 * lock any more), and may see its old store while another is open, as with a plain storage.
 */
export class ScopedStorage<T> {
  readonly #storage = new AsyncLocalStorage<T>()
  #open = 0
  readonly #close = () => {
    if (--this.#open === 0 && hooked) this.#storage.disable()
  }

  getStore(): T | undefined {
    return this.#storage.getStore()
  }

  /** `AsyncLocalStorage.run`, counted as a scope until what `fn` returns settles. */
  run<R>(store: T, fn: () => R): R {
    this.#open++
    let result: R
    try {
      result = this.#storage.run(store, fn)
    } catch (error) {
      this.#close()
      throw error
    }
    // Only a native promise: `then` on another thenable (a Prisma query) could start it.
    if (result instanceof Promise) result.then(this.#close, this.#close)
    else this.#close()
    return result
  }

  /** Whether a scope is open (for tests: the storage is disabled when none is). */
  get open(): number {
    return this.#open
  }
}
