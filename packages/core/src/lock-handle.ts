import type { Lease } from './lease.js'
import { Lock, notOwned } from './lock.js'
import { checkBoolean, checkOptions } from './validate.js'

const releaseOptionNames = new Set(['force'])

/**
 * A lock held outside a callback, from `acquire()`: release it yourself, or let `await using`
 * do it:
 *
 * ```ts
 * await using handle = await locks.acquire('invoice:42')
 * ```
 *
 * A handle that becomes unreachable while held is released by a finalizer (`releaseOnFinalize`);
 * do not rely on it, since finalizers may never run: the ttl is the safety net.
 */
export class LockHandle extends Lock {
  readonly #lease: Lease

  /** @internal Made by the manager; not constructible by users. */
  constructor(lease: Lease) {
    super(lease)
    this.#lease = lease
  }

  /**
   * Release the lock. `{ force: true }` releases whoever holds the name now (PyYADL's
   * `release(force=True)`). Rejects with `LockNotOwnedError` when this handle no longer holds it
   * (already released, or lost: the error's `cause` says how), with `LockError` when the store
   * fails (the lock then expires after its ttl).
   */
  async release(options?: { force?: boolean }): Promise<void> {
    const { force = false } = checkOptions(options, 'options', releaseOptionNames)
    checkBoolean(force, 'options.force')
    if (!(await this.#lease.release(force === true))) throw notOwned(this.#lease)
  }

  /** `await using handle = await locks.acquire(name)`: released at the end of the block (no-op if already released). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#lease.held) await this.release()
  }

  override get [Symbol.toStringTag](): string {
    return 'LockHandle'
  }
}
