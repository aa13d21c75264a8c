import { createStore, MemoryStore, type LockStore } from '@cachelock/core'
// The servers `scripts/services.sh start` runs, as `scripts/services.sh env` names them.
import { CLUSTER_URL, MEMCACHED_URL, MYSQL_URL, PG_URL, REDIS_URL, SQLITE_URL } from '../reliability/support/env.js'

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
  fromUrl('PostgresStore', PG_URL),
  fromUrl('MysqlStore (MariaDB)', MYSQL_URL),
  // One file per test run that both clients open, as two processes on one host would.
  fromUrl('SqliteStore', SQLITE_URL),
]
