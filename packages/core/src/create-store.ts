import type { LockStore } from './store.js'
import { memcachedStoreFromUrl } from './stores/memcached/from-url.js'
import { MemoryStore } from './stores/memory/memory-store.js'
import { OpenStore } from './stores/open/open-store.js'
import { mysqlStoreFromUrl } from './stores/mysql/from-url.js'
import { postgresStoreFromUrl } from './stores/postgres/from-url.js'
import { sqliteStoreFromUrl } from './stores/sqlite/from-url.js'
import { redisStoreFromUrl } from './stores/redis/from-url.js'
import { invalid } from './validate.js'

type StoreFactory = (url: string) => LockStore

const factories = new Map<string, StoreFactory>([
  ['memory:', () => new MemoryStore()],
  ['open:', () => new OpenStore()],
  ['redis:', (url) => redisStoreFromUrl(url)],
  ['rediss:', (url) => redisStoreFromUrl(url)],
  // `new URL()` refuses a comma-separated host list, so cluster URLs reach their factory as text.
  ['redis+cluster:', (url) => redisStoreFromUrl(url)],
  ['rediss+cluster:', (url) => redisStoreFromUrl(url)],
  ['redis+sentinel:', (url) => redisStoreFromUrl(url)],
  ['memcached:', (url) => memcachedStoreFromUrl(url)],
  ['postgres:', (url) => postgresStoreFromUrl(url)],
  ['postgresql:', (url) => postgresStoreFromUrl(url)],
  ['mysql:', (url) => mysqlStoreFromUrl(url)],
  ['sqlite:', (url) => sqliteStoreFromUrl(url)],
])

const schemes = () => [...factories.keys()].map((scheme) => `${scheme}//`).join(', ')

/**
 * A store from a URL, for configuration by environment (`CACHELOCK_URL`):
 *
 * | URL | store |
 * |---|---|
 * | `memory://` | `MemoryStore` (this process only) |
 * | `open://` | `OpenStore` (never locks; tests) |
 * | `redis://[user:pass@]host:port[/db]`, `rediss://…` | `RedisStore` on a new ioredis client (ioredis must be installed) |
 * | `redis+cluster://h1:p1,h2:p2`, `rediss+cluster://…` | `RedisStore` on a new ioredis `Cluster` |
 * | `redis+sentinel://s1:p1,s2:p2/primaryName[/db]` | `RedisStore` on the primary Redis Sentinel names, across failovers |
 * | `memcached://h1:11211,h2:11211` | `MemcachedStore` on a new memjs client (memjs must be installed) |
 * | `postgres://user@host:5432/db`, `postgresql://…` | `PostgresStore` on a new `pg` pool (pg must be installed) |
 * | `sqlite:///absolute/path.db` | `SqliteStore` on a new `better-sqlite3` connection (better-sqlite3 must be installed) |
 * | `mysql://user:pass@host:3306/db` | `MysqlStore` on a new `mysql2` pool (mysql2 must be installed; MariaDB ≥ 10.6) |
 *
 * A store made here owns its connection: `store.close()` (or `locks.close()`) closes it.
 *
 * Throws `InvalidLockArgumentError` for anything else.
 */
export function createStore(url: string | URL): LockStore {
  const href = url instanceof URL ? url.href : url
  const scheme = typeof href === 'string' ? /^([a-z][a-z0-9+.-]*:)\/\//i.exec(href)?.[1]?.toLowerCase() : undefined
  if (scheme === undefined) throw invalid('url', `a store URL (${schemes()})`, url)
  const factory = factories.get(scheme)
  if (!factory) throw invalid('url', `a store URL with a known scheme (${schemes()})`, href)
  return factory(href)
}
