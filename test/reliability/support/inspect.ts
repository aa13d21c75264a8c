import { createLockManager, createStore, type LockManager } from '@cachelock/core'

/**
 * The test's own view of a store, through a separate connection: what the store itself says, not
 * what any holder believes.
 */
export interface Observer {
  locks: LockManager
  /** Owners holding `name` now, by the store. */
  owners(name: string): Promise<string[]>
  close(): Promise<void>
}

export function observe(url: string, prefix: string): Observer {
  const locks = createLockManager({ store: createStore(url), prefix })
  return {
    locks,
    owners: async (name) => (await locks.store.holders(locks.keyFor(name))).map((holder) => holder.owner),
    close: () => locks.close(),
  }
}

/** The manager id in an owner token (`<clientId>:<random>`). */
export const clientOf = (owner: string) => owner.slice(0, owner.indexOf(':'))
