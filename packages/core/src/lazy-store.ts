import { LockError } from './errors.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, LockListing, LockStore, StealRequest, Unsubscribe, Waiter } from './store.js'

/** What a lazily loaded store can do, known before its module is loaded. */
export interface LazyStoreFeatures {
  /** The store implements `onRelease` (wake-ups). */
  onRelease: boolean
  /** The store implements `list`. */
  list: boolean
  /** The store implements `waiters` (other managers' pending requests in `query()`). */
  waiters: boolean
}

/**
 * The store `createStore(url)` returns for a store that lives in its own module
 * (`@cachelock/core/redis`, `/memcached`, `/postgres`, `/mysql`, `/sqlite`): the URL is checked at
 * once, and the store's module is loaded (dynamic `import()`) at the first operation, so an app
 * loads only the store it uses. Every operation is passed on to the store made then.
 */
export class LazyStore implements LockStore {
  readonly #open: () => Promise<LockStore>
  #loading: Promise<LockStore> | undefined
  #store: LockStore | undefined
  #closed = false
  declare onRelease?: (key: string, wake: () => void) => Unsubscribe
  declare list?: (prefix: string, pattern?: string) => AsyncIterable<LockListing>
  declare waiters?: (key: string) => Promise<Waiter[]>

  constructor(open: () => Promise<LockStore>, features: LazyStoreFeatures) {
    this.#open = open
    // Only what the store has: the manager subscribes when `onRelease` exists, the CLI lists when `list` does.
    if (features.onRelease) this.onRelease = (key, wake) => this.#onRelease(key, wake)
    if (features.list) this.list = (prefix, pattern) => this.#list(prefix, pattern)
    if (features.waiters) this.waiters = async (key) => (await this.load()).waiters?.(key) ?? []
  }

  /** The store, once its module is loaded (before the first operation: `undefined`). */
  get loaded(): LockStore | undefined {
    return this.#store
  }

  /** Load the store's module and make the store (the first operation does it too). */
  load(): Promise<LockStore> {
    if (this.#closed) return Promise.reject(new LockError('The store was closed'))
    this.#loading ??= this.#open().then((store) => (this.#store = store))
    return this.#loading
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#store ? this.#store.acquire(request) : this.load().then((store) => store.acquire(request))
  }

  release(key: string, owner: string): Promise<boolean> {
    return this.#store ? this.#store.release(key, owner) : this.load().then((store) => store.release(key, owner))
  }

  extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#store ? this.#store.extend(key, owner, ttlMs) : this.load().then((store) => store.extend(key, owner, ttlMs))
  }

  steal(request: StealRequest): Promise<Granted> {
    return this.#store ? this.#store.steal(request) : this.load().then((store) => store.steal(request))
  }

  forceRelease(key: string): Promise<boolean> {
    return this.#store ? this.#store.forceRelease(key) : this.load().then((store) => store.forceRelease(key))
  }

  holders(key: string): Promise<Holder[]> {
    return this.#store ? this.#store.holders(key) : this.load().then((store) => store.holders(key))
  }

  /** Close the store if it was made; a store never loaded has nothing open. */
  async close(): Promise<void> {
    const loading = this.#loading
    this.#closed = true
    if (!loading) return
    const store = await loading.catch(() => undefined)
    await store?.close?.()
  }

  #onRelease(key: string, wake: () => void): Unsubscribe {
    if (this.#store?.onRelease) return this.#store.onRelease(key, wake)
    let ended = false
    let unsubscribe: Unsubscribe | undefined
    // A failed load fails the next operation too; the waiter polls meanwhile.
    this.load().then(
      (store) => {
        if (!ended) unsubscribe = store.onRelease?.(key, wake)
      },
      () => undefined,
    )
    return () => {
      ended = true
      unsubscribe?.()
    }
  }

  async *#list(prefix: string, pattern?: string): AsyncIterable<LockListing> {
    const store = await this.load()
    if (store.list) yield* store.list(prefix, pattern)
  }
}
