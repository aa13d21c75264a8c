import { randomBytes } from 'node:crypto'
import type { LockStore } from '@cachelock/core'
import type { LockSubject } from './subject.js'
import { randomToken } from './tokens.js'

/**
 * A cachelock store used directly, without the lock manager: one `acquire` and one `release`
 * through the `LockStore` interface. Not a way to use cachelock — no queue, no renewal, no loss
 * signal — but it splits the cost of a lock into the store's part (scripts, keys, client calls)
 * and the manager's (queue, lease, timers), which the uncontended case reports side by side.
 */
export function storeOnly(store: LockStore, id: string, label: string): LockSubject {
  const clientId = randomBytes(8).toString('hex')
  return {
    id,
    label,
    async run(key, critical) {
      const owner = `${clientId}:${randomToken()}`
      const result = await store.acquire({ key, owner, mode: 'exclusive', ttlMs: 30_000, clientId, waiting: false, pollMs: 100 })
      if (!result.granted) throw new Error(`${label}: ${key} is taken`)
      try {
        await critical()
      } finally {
        await store.release(key, owner)
      }
    },
  }
}
