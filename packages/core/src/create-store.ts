import { createRequire } from 'node:module'
import { ImplicitMemoryStore } from './implicit-store.js'
import { LazyStore, type LazyStoreFeatures } from './lazy-store.js'
import type { LockManagerOptions } from './options.js'
import type { LockStore } from './store.js'
import { provideStoreSource } from './store-source.js'
import { MemoryStore } from './stores/memory/memory-store.js'
import { checkMysqlUrl } from './stores/mysql/url.js'
import { OpenStore } from './stores/open/open-store.js'
import { missingPeer } from './stores/peer.js'
import { checkPostgresUrl } from './stores/postgres/url.js'
import { parseMemcachedUrl } from './stores/memcached/url.js'
import { parseRedisUrl } from './stores/redis/url.js'
import { sqliteUrlPath } from './stores/sqlite/url.js'
import { invalid } from './validate.js'

/**
 * A store that lives in its own module: its URL is checked here, synchronously, and its module
 * (a leaf entry of the package) is imported at the store's first operation.
 */
interface Leaf {
  /** Throws `InvalidLockArgumentError` naming `url` for a URL the store would refuse. */
  check(href: string): void
  /** The optional peer dependency the store loads (checked here: installed, not loaded). */
  peer: string
  open(href: string): Promise<LockStore>
  features: LazyStoreFeatures
}

const redis: Leaf = {
  check: parseRedisUrl,
  peer: 'ioredis',
  open: async (href) => (await import('./stores/redis/index.js')).redisStoreFromUrl(href),
  features: { onRelease: true, list: true, waiters: true },
}

const leaves = new Map<string, Leaf>([
  ['redis:', redis],
  ['rediss:', redis],
  // `new URL()` refuses a comma-separated host list, so cluster URLs reach their parser as text.
  ['redis+cluster:', redis],
  ['rediss+cluster:', redis],
  ['redis+sentinel:', redis],
  [
    'memcached:',
    {
      check: parseMemcachedUrl,
      peer: 'memjs',
      open: async (href) => (await import('./stores/memcached/index.js')).memcachedStoreFromUrl(href),
      features: { onRelease: false, list: false, waiters: false },
    },
  ],
  ...['postgres:', 'postgresql:'].map((scheme): [string, Leaf] => [
    scheme,
    {
      check: checkPostgresUrl,
      peer: 'pg',
      open: async (href) => (await import('./stores/postgres/index.js')).postgresStoreFromUrl(href),
      features: { onRelease: true, list: false, waiters: true },
    },
  ]),
  [
    'mysql:',
    {
      check: checkMysqlUrl,
      peer: 'mysql2/promise',
      open: async (href) => (await import('./stores/mysql/index.js')).mysqlStoreFromUrl(href),
      features: { onRelease: false, list: false, waiters: true },
    },
  ],
  [
    'sqlite:',
    {
      check: sqliteUrlPath,
      peer: 'better-sqlite3',
      open: async (href) => (await import('./stores/sqlite/index.js')).sqliteStoreFromUrl(href),
      features: { onRelease: false, list: false, waiters: true },
    },
  ],
])

// In-process stores: small, dependency-free, and the default, so they are made at once.
const embedded = new Map<string, () => LockStore>([
  ['memory:', () => new MemoryStore()],
  ['open:', () => new OpenStore()],
])

const schemes = () => [...embedded.keys(), ...leaves.keys()].map((scheme) => `${scheme}//`).join(', ')

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
 * The URL is checked here: anything else throws `InvalidLockArgumentError` naming `url`, and a
 * missing driver throws `LockError`. The store's own module (`@cachelock/core/redis`, …) and its
 * driver are loaded at the store's first operation, so an app loads only the store it uses; for
 * the store object itself (its client, its options), make it with that module's `…StoreFromUrl`.
 * A store made here owns its connection: `store.close()` (or `locks.close()`) closes it.
 */
export function createStore(url: string | URL): LockStore {
  const href = url instanceof URL ? url.href : url
  const scheme = typeof href === 'string' ? /^([a-z][a-z0-9+.-]*:)\/\//i.exec(href)?.[1]?.toLowerCase() : undefined
  if (scheme === undefined) throw invalid('url', `a store URL (${schemes()})`, url)
  const make = embedded.get(scheme)
  if (make) return make()
  const leaf = leaves.get(scheme)
  if (!leaf) throw invalid('url', `a store URL with a known scheme (${schemes()})`, href)
  leaf.check(href)
  checkInstalled(leaf.peer, `${scheme}//`)
  return new LazyStore(() => leaf.open(href), leaf.features)
}

/** Fail now, not at the first lock, when the store's driver is not installed (resolved, not loaded). */
function checkInstalled(peer: string, scheme: string): void {
  try {
    createRequire(import.meta.url).resolve(peer)
  } catch (cause) {
    throw missingPeer(peer, scheme, cause)
  }
}

/** `options`, with the store `CACHELOCK_URL` names when they name none (for `configure()` and the default manager). */
export function withEnvironmentStore(options: LockManagerOptions): LockManagerOptions {
  const url = process.env.CACHELOCK_URL
  // Typed options may still be anything at run time; the manager validates them.
  if (typeof options !== 'object' || options === null || options.store !== undefined || !url) return options
  return { ...options, store: url }
}

// A manager's `store` that is a URL, or nothing (memory, refused in production: see ImplicitMemoryStore).
provideStoreSource((store) => (store === undefined ? new ImplicitMemoryStore() : createStore(store)))
