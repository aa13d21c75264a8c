import { createStore, MemoryStore, type LockStore } from '@cachelock/core'

/** The servers `scripts/services.sh start` runs (see `scripts/services.sh env`). */
const REDIS_URL = process.env['CACHELOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391'
const CLUSTER_URL = process.env['CACHELOCK_TEST_REDIS_CLUSTER_URL'] ?? 'redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103'
const MEMCACHED_URL = process.env['CACHELOCK_TEST_MEMCACHED_URL'] ?? 'memcached://127.0.0.1:11311,127.0.0.1:11312'

/** A store the Web Locks conformance suite runs on. */
export interface ConformanceStore {
  /** Its row in the README's conformance table. */
  name: string
  /**
   * Open the store's backend for one WPT file. Each call of the returned function is one client of
   * it (the page, the worker): for a server, a new store on its own connection, like another app
   * server; `LockManager.close()` closes it.
   */
  backend(): () => LockStore
}

/** A store made from a URL with `createStore`, one connection per client. */
function fromUrl(name: string, url: string): ConformanceStore {
  return { name, backend: () => () => createStore(url) }
}

/** Every store, each against its real server. A new store is one entry here. */
export const CONFORMANCE_STORES: readonly ConformanceStore[] = [
  {
    name: 'MemoryStore',
    backend: () => {
      // One process's memory: both clients share the instance, as two managers in one app do.
      const store = new MemoryStore()
      return () => store
    },
  },
  fromUrl('RedisStore (standalone)', REDIS_URL),
  fromUrl('RedisStore (Cluster)', CLUSTER_URL),
  fromUrl('MemcachedStore', MEMCACHED_URL),
]
