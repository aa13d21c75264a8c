import { LockError } from './errors.js'
import type { LockStore } from './store.js'

/**
 * Turns a manager's `store` option that is not a store (a URL, or nothing) into one. The manager
 * knows only the store seam: which stores exist, how URLs name them and which store is the default
 * is the store-creation module's knowledge (`create-store.ts`), which provides this when the
 * package's main entry loads.
 */
export type StoreSource = (store: string | undefined) => LockStore

let source: StoreSource | undefined

export function provideStoreSource(provided: StoreSource): void {
  source = provided
}

export function storeFromSource(store: string | undefined): LockStore {
  if (!source) {
    throw new LockError("No store source is loaded: import the LockManager from '@cachelock/core' (its main entry), or hand it a LockStore")
  }
  return source(store)
}
