import { afterAll } from 'vitest'
import { createLockManager, type LockManager, type LockStore } from '@cachelock/core'
import type { Setup } from './matrix.js'
import { makeStore } from './stores.js'

/**
 * Managers of "another process" for the tests of one `onEveryDatabaseAndStore` body: each on a
 * store client of its own (the same Redis server; the memory store has no server, so the same
 * store), with the prefix of the test's manager. A lock they steal or release is not marked lost
 * in this process: the holder finds out from the store (its renewal, or the check before commit).
 * Call once in the body; the store clients are closed after its tests.
 */
export function anotherManagers(): (setup: Setup) => Promise<LockManager> {
  const opened: LockStore[] = []
  let other: LockStore | undefined
  afterAll(async () => {
    for (const store of opened.splice(0)) await store.close?.()
  })
  return async ({ storeKind, store, locks }) => {
    if (!other) {
      other = storeKind === 'memory' ? store : await makeStore(storeKind)
      if (other !== store) opened.push(other)
    }
    return createLockManager({ store: other, prefix: locks.prefix, sleep: 20 })
  }
}
