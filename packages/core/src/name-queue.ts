import { storeError } from './errors.js'
import { Lease } from './lease.js'
import type { LockMode, LockStore, Unsubscribe } from './store.js'
import { newOwnerToken } from './tokens.js'

/** What the queue needs from its manager. */
export interface QueueHost {
  readonly store: LockStore
  readonly clientId: string
  readonly sleep: number
  /** The queue has nothing pending, held or running: the manager may forget it. */
  idle(queue: NameQueue): void
}

/** One waiting request for a name. */
export interface PendingRequest {
  readonly mode: LockMode
  readonly ttl: number
  readonly autoExtend: boolean
  /** Try once; when refused, settle through `unavailable` instead of waiting. */
  readonly once: boolean
  readonly requestedAt: number
  /** Settle when `once` and refused: `null` for Web Locks `ifAvailable`, an error otherwise. */
  unavailable(): void
  grant(lease: Lease): void
  fail(error: unknown): void
  /** Set once the request is settled (granted, failed, aborted, timed out). */
  settled: boolean
}

/**
 * The requests and local holders of one lock name in one manager, and the one loop ("pump")
 * that asks the store for it. Every way of taking a lock (request, acquire, withLock, the
 * decorator, the ORM adapters) waits here, so the waiting logic exists once:
 *
 * - grants in request order (FIFO), shared requests together, exclusive alone, as Web Locks do;
 * - at most one store attempt for this name at a time;
 * - between refused attempts, sleeps until the store's wake-up (`onRelease`), a local release,
 *   the holder's remaining ttl, or `sleep` (jittered) — whichever comes first.
 */
export class NameQueue {
  readonly name: string
  readonly key: string
  readonly pending: PendingRequest[] = []
  readonly held = new Set<Lease>()
  readonly #host: QueueHost
  #pumping = false
  #wake: (() => void) | undefined
  #woken = false
  /** The store refused this manager's last attempt: it is waiting for the lock. */
  #refused = false
  #unsubscribe: Unsubscribe | undefined

  constructor(host: QueueHost, name: string, key: string) {
    this.#host = host
    this.name = name
    this.key = key
  }

  /** Whether `mode` could be granted now without waiting behind anyone in this manager. */
  available(mode: LockMode): boolean {
    return this.pending.length === 0 && this.#locallyGrantable(mode)
  }

  enqueue(request: PendingRequest): void {
    this.pending.push(request)
    void this.#pump()
  }

  /** A request settled from outside (abort, timeout): take it out and let the loop move on. */
  drop(request: PendingRequest): void {
    const index = this.pending.indexOf(request)
    if (index !== -1) this.pending.splice(index, 1)
    this.#poke()
  }

  /** Tell the manager it can forget this queue, if nothing is pending, held or running. */
  checkIdle(): void {
    if (!this.#pumping && this.pending.length === 0 && this.held.size === 0) this.#host.idle(this)
  }

  /** Make a lease for a grant and track it here until it ends. */
  lease(owner: string, mode: LockMode, fencingToken: number, ttl: number, autoExtend: boolean, sentAt: number): Lease {
    const lease = new Lease({
      store: this.#host.store,
      name: this.name,
      key: this.key,
      mode,
      owner,
      clientId: this.#host.clientId,
      fencingToken,
      ttl,
      autoExtend,
      confirmedAt: sentAt,
      onEnd: (ended) => {
        this.held.delete(ended)
        this.#poke()
      },
    })
    this.held.add(lease)
    return lease
  }

  /** Something changed (a release here, a store wake-up): retry now rather than at the next poll. */
  #poke(): void {
    this.#woken = true
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
    void this.#pump()
  }

  #locallyGrantable(mode: LockMode): boolean {
    if (this.#host.store.neverLocks) return true
    for (const lease of this.held) if (mode === 'exclusive' || lease.mode === 'exclusive') return false
    return true
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (;;) {
        const head = this.pending[0]
        if (!head) break
        // Another holder here conflicts: its release pokes the loop. No store call can succeed.
        if (!this.#locallyGrantable(head.mode)) {
          if (head.once) this.#settle(head, () => head.unavailable())
          else break
          continue
        }
        this.#woken = false
        const refusal = await this.#attempt(head)
        if (refusal === undefined) continue
        if (head.once) {
          this.#settle(head, () => head.unavailable())
          continue
        }
        if (!head.settled && !this.#woken) await this.#sleep(refusal)
      }
    } finally {
      this.#pumping = false
      if (this.pending.length === 0) this.#unsubscribeNow()
      this.checkIdle()
    }
  }

  /** One store attempt for `head`. Resolves the ms to wait before the next one when refused. */
  async #attempt(head: PendingRequest): Promise<number | undefined> {
    const { store, clientId, sleep } = this.#host
    const owner = newOwnerToken(clientId)
    const sentAt = performance.now()
    let result
    try {
      result = await store.acquire({
        key: this.key,
        owner,
        mode: head.mode,
        ttlMs: head.ttl,
        clientId,
        // Only a request that will wait counts as a waiter: an ifAvailable try must not take a turn.
        waiting: this.#refused && !head.once,
        pollMs: sleep,
      })
    } catch (cause) {
      this.#settle(head, () => head.fail(storeError('acquire', this.name, cause)))
      return undefined
    }
    this.#refused = !result.granted
    if (result.granted) {
      if (head.settled) {
        // Aborted or timed out while the grant was on its way: give it straight back. A failure
        // here only delays the next holder until the ttl runs out.
        store.release(this.key, owner).catch(() => undefined)
        return undefined
      }
      const lease = this.lease(owner, head.mode, result.fencingToken, head.ttl, head.autoExtend, sentAt)
      this.#settle(head, () => head.grant(lease))
      return undefined
    }
    if (head.settled) return undefined
    if (!head.once) this.#subscribe()
    const jittered = sleep * (0.5 + Math.random() / 2)
    return Math.max(1, Math.min(jittered, (result.retryInMs ?? Infinity) + 1))
  }

  #settle(request: PendingRequest, settle: () => void): void {
    const index = this.pending.indexOf(request)
    if (index !== -1) this.pending.splice(index, 1)
    if (!request.settled) settle()
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      // Not unref'd: a request is waiting on this poll, and its caller awaits the grant. Only
      // housekeeping (renewal, wake-up subscriptions) lets the process exit.
      const timer = setTimeout(done, ms)
      this.#wake = done
    })
  }

  #subscribe(): void {
    if (this.#unsubscribe || !this.#host.store.onRelease) return
    this.#unsubscribe = this.#host.store.onRelease(this.key, () => this.#poke())
  }

  #unsubscribeNow(): void {
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    unsubscribe?.()
  }
}
