import { randomBytes } from 'node:crypto'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { parseRedisUrl } from '../../../src/stores/redis/url.js'
import { RedisStore, type RedisStoreOptions } from '../../../src/stores/redis/redis-store.js'
import type { AcquireRequest } from '../../../src/store.js'

/** The servers `scripts/services.sh start` runs (see `scripts/services.sh env`). */
export const REDIS_URL = process.env['CACHELOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391'
export const CLUSTER_URL = process.env['CACHELOCK_TEST_REDIS_CLUSTER_URL'] ?? 'redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103'

export type Mode = 'standalone' | 'cluster'
export const MODES: Mode[] = ['standalone', 'cluster']

const opened: (Redis | Cluster)[] = []
const stores: RedisStore[] = []

/** A client for `mode`, ended by `closeAll()`. */
export function connect(mode: Mode, options: RedisOptions & ClusterOptions = {}): Redis | Cluster {
  const client =
    mode === 'standalone'
      ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1, ...options })
      : new Cluster(parseRedisUrl(CLUSTER_URL).nodes, { ...options, redisOptions: { maxRetriesPerRequest: 1, ...options.redisOptions } })
  opened.push(client)
  return client
}

/** A store on a fresh client for `mode`; both are closed by `closeAll()`. */
export function storeFor(mode: Mode, options: RedisStoreOptions = {}, clientOptions: RedisOptions & ClusterOptions = {}): RedisStore {
  const store = new RedisStore(connect(mode, clientOptions), options)
  stores.push(store)
  return store
}

export async function closeAll(): Promise<void> {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  await Promise.all(opened.splice(0).map((client) => client.quit().catch(() => client.disconnect())))
}

/** A key no other test uses. */
export function uniqueKey(label = 'k'): string {
  return `test:${label}:${randomBytes(6).toString('hex')}`
}

/** A fresh owner token, like the manager makes. */
export function owner(clientId = 'c0'): string {
  return `${clientId}:${randomBytes(16).toString('hex')}`
}

/** An exclusive acquire request with defaults the tests override. */
export function request(key: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest {
  return {
    key,
    owner: owner(overrides.clientId),
    mode: 'exclusive',
    ttlMs: 10_000,
    clientId: 'c0',
    waiting: false,
    pollMs: 100,
    ...overrides,
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolve once `predicate` holds, polling; reject after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(5)
  }
}
