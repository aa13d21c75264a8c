import { LockError } from './errors.js'
import { answerAtOnce, MemoryStore } from './stores/memory/memory-store.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, StealRequest, Waiter } from './store.js'

const HOW =
  'Configure a store that every process of the app shares: set CACHELOCK_URL (e.g. redis://localhost:6379), ' +
  "or call configure({ store: 'redis://…' }) / createLockManager({ store: new RedisStore(redis) }). " +
  "For locks within one process only, choose the memory store explicitly: store: 'memory://' or new MemoryStore()."

// One warning per process, however many copies of this package or managers there are.
const warned = Symbol.for('cachelock.implicitStoreWarned')
type WithFlag = typeof globalThis & { [warned]?: boolean }

/**
 * The store of a manager made without one (no `store`, and for the default manager no
 * `CACHELOCK_URL`): an in-process `MemoryStore`, which locks nothing across processes. Apps run
 * several processes in production, where that silently means no lock at all, so:
 *
 * - with `NODE_ENV=production`, every operation fails with a `LockError` saying how to configure a
 *   store (the manager reports it as the store's failure, with this error as `cause`);
 * - elsewhere it works in memory and emits one `process.emitWarning` per process, at first use.
 *
 * A memory store chosen explicitly (`'memory://'`, `new MemoryStore()`) is a plain `MemoryStore`
 * and stays silent.
 */
export class ImplicitMemoryStore extends MemoryStore {
  override acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#checked(() => super.acquire(request))
  }

  override release(key: string, owner: string): Promise<boolean> {
    return this.#checked(() => super.release(key, owner))
  }

  override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#checked(() => super.extend(key, owner, ttlMs))
  }

  override steal(request: StealRequest): Promise<Granted> {
    return this.#checked(() => super.steal(request))
  }

  override forceRelease(key: string): Promise<boolean> {
    return this.#checked(() => super.forceRelease(key))
  }

  override holders(key: string): Promise<Holder[]> {
    return this.#checked(() => super.holders(key))
  }

  override waiters(key: string): Promise<Waiter[]> {
    return this.#checked(() => super.waiters(key))
  }

  #checked<T>(operation: () => Promise<T>): Promise<T> {
    if (process.env.NODE_ENV === 'production') {
      return Promise.reject(
        new LockError(
          `No lock store is configured, and NODE_ENV is production: in-process memory locks would not exclude other processes. ${HOW}`,
        ),
      )
    }
    const global = globalThis as WithFlag
    if (!global[warned]) {
      global[warned] = true
      process.emitWarning(`No lock store is configured: locks are held in this process's memory and exclude no other process. ${HOW}`, {
        type: 'CachelockWarning',
        code: 'CACHELOCK_MEMORY_STORE',
      })
    }
    return operation()
  }
}

// Its calls are settled when they return, as the memory store's are (a refusal in production too).
answerAtOnce(ImplicitMemoryStore.prototype)
