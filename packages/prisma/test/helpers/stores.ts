import { randomBytes } from 'node:crypto'
import { createLockManager, MemoryStore, type LockManager, type LockStore } from '@cachelock/core'
import { redisStoreFromUrl } from '@cachelock/core/redis'

/**
 * The lock stores every Prisma test runs with: the in-process memory store, and Redis on the test
 * server (`scripts/services.sh start redis`). Each manager gets a prefix of its own, so test files
 * sharing the Redis server never see each other's locks.
 */
export type StoreKind = 'memory' | 'redis'
export const storeKinds: StoreKind[] = ['memory', 'redis']

export const REDIS_URL = process.env['CACHELOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391'

export async function makeStore(kind: StoreKind): Promise<LockStore> {
  return kind === 'memory' ? new MemoryStore() : redisStoreFromUrl(REDIS_URL)
}

/** A manager on `store` with a fresh prefix; `sleep` short so waiting tests stay quick. */
export function managerOn(store: LockStore, options: { ttl?: number } = {}): LockManager {
  return createLockManager({ store, prefix: `test:prisma:${randomBytes(4).toString('hex')}:`, sleep: 20, ...options })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
