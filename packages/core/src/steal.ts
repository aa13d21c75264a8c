import { storeError } from './errors.js'
import { publish } from './events.js'
import type { Lease } from './lease.js'
import type { NameQueue } from './name-queue.js'
import { eventBase } from './pending-request.js'
import type { ResolvedRequest } from './resolve-options.js'
import type { StoreDeadline } from './store-deadline.js'
import type { LockStore } from './store.js'
import { newOwnerToken } from './tokens.js'

/** What steals need from their manager. */
export interface StealHost {
  readonly store: LockStore
  /** Bounds every store call (the manager's `storeTimeout`). */
  readonly deadline: StoreDeadline
  readonly clientId: string
  /** The manager's queue for `name`, made if it has none. */
  queue(name: string): NameQueue
}

/**
 * Web Locks `steal` for one manager: take the lock over in the store, and tell this manager's
 * holders of the name that it was stolen.
 *
 * A steal comes after what this manager asked the store for the name before it: the acquire
 * attempts that were out when it was called, and earlier steals. A store on a connection pool
 * (the database stores) may otherwise run a later call on another connection ahead of an earlier
 * one: a grant sent before the steal would land after it and take the lock from the thief's
 * successor, or the first of two steals would win. Waiting costs nothing when nothing is out,
 * and at most `storeTimeout` when something is.
 */
export class Steals {
  readonly #host: StealHost
  /** Per name, the last steal asked for, settled either way. */
  readonly #last = new Map<string, Promise<void>>()

  constructor(host: StealHost) {
    this.#host = host
  }

  steal(name: string, options: ResolvedRequest): Promise<Lease> {
    // Read now, at the call: the attempts out now and the steals asked for before go first.
    const before = Promise.all([this.#host.queue(name).settled(), this.#last.get(name)])
    const stolen = before.then(() => this.#take(name, options))
    const done = stolen.then(
      () => undefined,
      () => undefined,
    )
    this.#last.set(name, done)
    void done.then(() => {
      if (this.#last.get(name) === done) this.#last.delete(name)
    })
    return stolen
  }

  async #take(name: string, options: ResolvedRequest): Promise<Lease> {
    const { store, deadline, clientId } = this.#host
    const key = this.#host.queue(name).key
    const owner = newOwnerToken(clientId)
    const sentAt = performance.now()
    let fencingToken: number
    try {
      ;({ fencingToken } = await deadline.bound(
        'steal',
        name,
        () => store.steal({ key, owner, ttlMs: options.ttl, clientId }),
        // Taken after the caller heard it failed: nobody will use it.
        { keepAlive: true, late: () => void store.release(key, owner).catch(() => undefined) },
      ))
    } catch (cause) {
      this.#host.queue(name).checkIdle()
      throw storeError('steal', name, cause)
    }
    // The queue as it is now: the one the steal was asked on may have gone idle meanwhile. The
    // thief's lease goes in before the victims go out, so the queue never looks idle in between
    // (an idle queue is forgotten, and the thief's lease with it).
    const queue = this.#host.queue(name)
    const victims = [...queue.held]
    const lease = queue.lease(owner, 'exclusive', fencingToken, options.ttl, options.autoExtend, sentAt)
    for (const victim of victims) victim.markLost('stolen')
    publish('acquired', () => ({ ...eventBase(lease), waitMs: performance.now() - sentAt, stolen: true }))
    return lease
  }
}
