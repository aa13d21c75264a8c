import { LockLostError, LockNotOwnedError } from './errors.js'
import type { Lease } from './lease.js'
import type { LockMode } from './store.js'
import { checkDuration } from './validate.js'

/**
 * A granted lock, as `request()` and `withLock()` hand it to their callback (the Web Locks `Lock`,
 * plus what a distributed lock needs). It stays held until the callback's promise settles.
 */
export class Lock {
  readonly #lease: Lease

  /** @internal Made by the manager; not constructible by users. */
  constructor(lease: Lease) {
    this.#lease = lease
  }

  /** The lock name, as requested. */
  get name(): string {
    return this.#lease.name
  }

  get mode(): LockMode {
    return this.#lease.mode
  }

  /**
   * Strictly greater than the token of every earlier grant of this name, by any client. Store it
   * with your write and have the storage reject writes carrying a smaller one: then a holder that
   * lost its lock during a stall cannot overwrite the newer holder's work.
   */
  get fencingToken(): number {
    return this.#lease.fencingToken
  }

  /**
   * Aborted with a `LockLostError` when the lock is lost while held: its ttl ran out (a stall
   * longer than ttl, `autoExtend: false`), another client stole or force-released it, or the store
   * stayed unreachable until the ttl had passed. Pass it to work that should stop then.
   */
  get signal(): AbortSignal {
    return this.#lease.signal
  }

  /** Whether this process still considers the lock held (not released, not known lost). */
  get held(): boolean {
    return this.#lease.held
  }

  /** The ttl in ms the lock is renewed with. */
  get ttl(): number {
    return this.#lease.ttl
  }

  /**
   * Make the lock live `ttl` ms from now (default: its current ttl), and renew with that ttl from
   * then on. Rejects with `LockNotOwnedError` when the lock is no longer held (its signal is then
   * aborted), with `LockError` when the store fails.
   */
  async extend(ttl: number = this.#lease.ttl): Promise<void> {
    checkDuration(ttl, 'ttl')
    if (!(await this.#lease.extend(ttl))) throw notOwned(this.#lease)
  }

  /**
   * Confirm with the store that this lock is still held, right now: the signal first, then one
   * owner-checked round trip (which also renews it). Rejects with `LockLostError` when it is not.
   * Call it just before making work durable (the ORM adapters do, before commit).
   */
  async ensureHeld(): Promise<void> {
    const lease = this.#lease
    if (lease.lost) throw lease.lost
    if (!lease.held) throw new LockLostError(lease.name, 'expired', { message: `Lock ${JSON.stringify(lease.name)} was already released` })
    if (!(await lease.extend(lease.ttl, false, 'confirm'))) throw lease.lost
  }

  get [Symbol.toStringTag](): string {
    return 'Lock'
  }
}

export function notOwned(lease: Lease): LockNotOwnedError {
  const error = new LockNotOwnedError(lease.name)
  if (lease.lost) error.cause = lease.lost
  return error
}
