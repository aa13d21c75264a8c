import type { AcquireResult, Granted, Holder, LockStore } from '../../store.js'

/**
 * A store that never locks: every request is granted at once, nothing is ever held (pylock's
 * "open" backend). For tests and local runs that do not care about exclusion. Never use it where
 * exclusion matters: two holders run at the same time.
 */
export class OpenStore implements LockStore {
  readonly neverLocks = true
  #fence = 0

  acquire(): Promise<AcquireResult> {
    return Promise.resolve({ granted: true, fencingToken: ++this.#fence })
  }

  /** Always `true`: there is nothing to release, and the caller's lock counts as released. */
  release(): Promise<boolean> {
    return Promise.resolve(true)
  }

  /** Always `true`: an open lock never expires. */
  extend(): Promise<boolean> {
    return Promise.resolve(true)
  }

  steal(): Promise<Granted> {
    return Promise.resolve({ fencingToken: ++this.#fence })
  }

  forceRelease(): Promise<boolean> {
    return Promise.resolve(false)
  }

  holders(): Promise<Holder[]> {
    return Promise.resolve([])
  }
}
