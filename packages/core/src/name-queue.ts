import { Attempts } from './attempts.js'
import { storeError } from './errors.js'
import { usable } from './handover.js'
import { admits, leaseList, withLease, withoutLease, type HeldLeases } from './held-leases.js'
import { Lease, type LeaseHome } from './lease.js'
import type { QueueHost } from './queue-host.js'
import { timedOutInTrouble, type PendingRequest } from './pending-request.js'
import type { AcquireResult, Handover, LockMode, Unsubscribe } from './store.js'
import { newOwnerToken } from './tokens.js'

const NO_REQUESTS: PendingRequest[] = Object.freeze([]) as unknown as PendingRequest[] // shared: frozen, so a push into it throws

/**
 * The requests and local holders of one lock name in one manager, and the attempts that ask the
 * store for it. Every way of taking a lock (request, acquire, withLock, the decorator, the ORM
 * adapters) waits here, so the waiting logic exists once:
 *
 * - grants in request order (FIFO), shared requests together, exclusive alone, as Web Locks do;
 *   the shared requests at the head are asked for together (one attempt each, at once), an
 *   exclusive one only when no other attempt for the name is out;
 * - after a refusal, waits until the store's wake-up (`onRelease`), a local release, the holder's
 *   remaining ttl, or `sleep` (jittered), whichever comes first, then asks again;
 * - a failed attempt (the store erred, or did not answer within `storeTimeout`) fails every
 *   request of the name that has no `timeout` at once, together; requests with a `timeout` keep
 *   their place and retry until it runs out. So an outage never serialises the callers of a name.
 */
export class NameQueue implements LeaseHome {
  readonly name: string
  readonly key: string
  /** Waiting, in request order; a shared empty list while none is, so a name only held keeps no list. */
  pending = NO_REQUESTS
  #held: HeldLeases
  readonly host: QueueHost // the manager's parts, which every lease of this name uses too
  readonly #inFlight = new Attempts()
  /** The current round: requests asked for since the last pause carry its number (`asked`) and wait for the pause. */
  #round = 1
  /** Whether any request was asked for in the current round. */
  #roundStarted = false
  /** The pause the attempts of this round asked for (refused or failed), in ms. */
  #pause: number | undefined
  /** Pausing between rounds; a wake-up or a local release cuts it short. */
  #retryTimer: NodeJS.Timeout | undefined
  /** A wake-up came while attempts were out: ask again at once rather than pause. */
  #woken = false
  /** The store refused this manager's last attempt: it is waiting for the lock. */
  #refused = false
  /** The exclusive request whose last attempt the store refused, with its owner: a release may hand it the lock. */
  #parked: { request: PendingRequest; owner: string } | undefined
  #unsubscribe: Unsubscribe | undefined
  /** The request `enqueue` is dispatching, while it does. */
  #justRequested: PendingRequest | undefined

  constructor(host: QueueHost, name: string, key: string) {
    this.host = host
    this.name = name
    this.key = key
  }

  /** This manager's holders of the name (a copy: ending one while iterating is safe). */
  get held(): Lease[] {
    return leaseList(this.#held)
  }

  /** Whether `mode` could be granted now without waiting behind anyone in this manager. */
  available(mode: LockMode): boolean {
    return this.pending.length === 0 && this.#locallyGrantable(mode)
  }

  enqueue(request: PendingRequest): void {
    if (this.pending === NO_REQUESTS) this.pending = [request]
    else this.pending.push(request)
    // Asked for in this same call, it is sent at the time it was requested: one clock read, not two.
    this.#justRequested = request
    this.#dispatch()
    this.#justRequested = undefined
  }

  /** A request settled from outside (abort, timeout): take it out and let the next one go. */
  drop(request: PendingRequest): void {
    this.#remove(request)
    this.#poke()
  }

  /** Whether nothing is pending, held or out: the manager may forget this queue. */
  isIdle(): boolean {
    return this.#inFlight.size === 0 && this.pending.length === 0 && this.#held === undefined
  }

  /** Tell the manager it can forget this queue, if nothing is pending, held or out. */
  checkIdle(): void {
    if (this.isIdle()) this.host.idle(this)
  }

  /** Resolves once every attempt out now has settled and its outcome is applied (bounded by `storeTimeout`). */
  async settled(): Promise<void> {
    await this.#inFlight.settled()
  }

  /** Why a request waiting since `since` got no lock, when the store is to blame (see `Attempts.storeTrouble`). */
  storeTrouble(since: number): unknown {
    return this.#inFlight.storeTrouble(this.name, since)
  }

  /** Make a lease for a grant and track it here until it ends. */
  lease(owner: string, mode: LockMode, fencingToken: number, ttl: number, autoExtend: boolean, sentAt: number, grantedAt?: number): Lease {
    const lease = new Lease(this, owner, mode, fencingToken, ttl, autoExtend, sentAt, grantedAt)
    this.#held = withLease(this.#held, lease)
    return lease
  }

  /** A lease of this name stopped being held (released, lost, finalized): the next request may go. */
  leaseEnded(lease: Lease): void {
    this.#held = withoutLease(this.#held, lease)
    this.#poke()
  }

  /** Something changed (a release here, a store wake-up): ask again now rather than after the pause. */
  #poke(): void {
    this.#woken = true
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      this.#newRound()
    }
    this.#dispatch()
  }

  #newRound(): void {
    this.#round++
    this.#roundStarted = false
  }

  #locallyGrantable(mode: LockMode): boolean {
    return this.host.store.neverLocks === true || admits(this.#held, mode)
  }

  /** Ask the store for every request at the head that may go now. */
  #dispatch(): void {
    if (this.#retryTimer === undefined) {
      // The head group: an exclusive request alone, or the run of shared requests at the front.
      // (Settling an `ifAvailable` request removes it, so walk a copy.)
      const head = this.pending[0]
      if (head?.mode === 'shared') {
        for (const request of this.#sharedHead()) if (!this.#ask(request)) break
      } else if (head) this.#ask(head)
    }
    if (this.pending.length === 0 && this.#inFlight.size === 0) {
      if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      this.#newRound()
      this.#unsubscribeNow()
      this.checkIdle()
    }
  }

  /** Ask the store for `request` if it may go now; false when it must wait for an attempt out, and so must the rest of its group. */
  #ask(request: PendingRequest): boolean {
    if (request.asked === this.#round) return true
    if (!this.#locallyGrantable(request.mode)) {
      // A holder here conflicts: its release pokes the queue. No store call can succeed.
      if (request.once) this.#settle(request, () => request.unavailable())
      return true
    }
    if (request.mode === 'exclusive' ? this.#inFlight.size > 0 : this.#inFlight.exclusiveOut()) return false
    if (!this.#roundStarted) this.#woken = false
    this.#roundStarted = true
    request.asked = this.#round
    this.#attempt(request)
    return true
  }

  #sharedHead(): PendingRequest[] {
    const run: PendingRequest[] = []
    for (const request of this.pending) {
      if (request.mode !== 'shared') break
      run.push(request)
    }
    return run
  }

  #attempt(request: PendingRequest): void {
    const { store, deadline, clientId, sleep } = this.host
    const owner = newOwnerToken(clientId)
    const sentAt = request === this.#justRequested ? request.requestedAt : performance.now()
    this.#parked = undefined // the store replaces what it parked for this manager with this attempt
    const attempt = this.#inFlight.sent(request, sentAt)
    this.host.order.sent(request)
    deadline.watch(
      'acquire',
      this.name,
      () =>
        store.acquire({
          key: this.key,
          owner,
          mode: request.mode,
          ttlMs: request.ttl,
          clientId,
          // Only a request that will wait counts as a waiter: an ifAvailable try must not take a turn.
          waiting: this.#refused && !request.once,
          pollMs: sleep,
          once: request.once,
        }),
      {
        keepAlive: true,
        value: (result) => {
          this.#answered(request, owner, sentAt, result)
          this.#inFlight.applied(attempt)
        },
        error: (error) => {
          // A failed call may have taken the lock all the same (its reply lost with the connection,
          // the store failing after its write, a timeout): give this attempt's owner back, or that
          // grant nobody learned of holds the lock until its ttl. Owner-checked (an owner is one
          // attempt's), so it frees nothing else; not awaited, so callers hear of the failure now.
          this.#giveBack(owner)
          this.#failed(request, error)
          this.#inFlight.applied(attempt)
        },
        // The caller stopped waiting for this answer: a grant that comes anyway is given back.
        late: (result) => {
          if (result.granted) this.#giveBack(owner)
        },
      },
      sentAt,
    )
  }

  #answered(request: PendingRequest, owner: string, sentAt: number, result: AcquireResult): void {
    this.#inFlight.answered(request)
    this.#refused = !result.granted
    if (result.granted) {
      // Aborted or timed out while the grant was on its way: give it straight back.
      if (request.settled) {
        this.#giveBack(owner)
        this.host.order.answered(request)
      } else {
        this.#deliver(request, this.lease(owner, request.mode, result.fencingToken, request.ttl, request.autoExtend, sentAt))
      }
      this.#next()
      return
    }
    this.host.order.answered(request)
    if (request.once) {
      this.#settle(request, () => request.unavailable())
    } else if (!request.settled) {
      request.waits()
      if (request.mode === 'exclusive') this.#parked = { request, owner }
      this.#subscribe()
      const jittered = this.host.sleep * (0.5 + Math.random() / 2)
      this.#pauseFor(Math.max(1, Math.min(jittered, (result.retryInMs ?? Infinity) + 1)))
    }
    this.#next()
  }

  #failed(request: PendingRequest, error: unknown): void {
    this.#inFlight.failed(request, error)
    this.host.order.answered(request)
    const now = performance.now()
    // Everyone who cannot outwait the failure hears of it now, together: a later attempt would
    // most likely fail the same way, and serving them one failed attempt at a time is how a burst
    // on one name used to take minutes to fail during an outage.
    for (const waiting of [...this.pending]) {
      if (waiting !== request && this.#inFlight.has(waiting)) continue
      if (waiting.once || waiting.giveUpAt === undefined) this.#settle(waiting, () => waiting.fail(storeError('acquire', this.name, error)))
      else if (waiting.giveUpAt <= now) this.#settle(waiting, () => waiting.fail(timedOutInTrouble(this.name, waiting, error)))
      else waiting.waits()
    }
    this.#pauseFor(this.host.sleep * (0.5 + Math.random() / 2))
    this.#next()
  }

  #pauseFor(ms: number): void {
    this.#pause = this.#pause === undefined ? ms : Math.min(this.#pause, ms)
  }

  /** After an attempt: when the round is over, pause if it asked for one, then start the next. */
  #next(): void {
    if (this.#inFlight.size === 0) {
      const pause = this.#pause
      this.#pause = undefined
      this.#newRound()
      if (pause !== undefined && !this.#woken && this.pending.length > 0) {
        // Not unref'd: requests wait on this, and their callers await the grant. Only housekeeping
        // (renewal, wake-up subscriptions) lets the process exit.
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined
          this.#dispatch()
        }, pause)
        return
      }
    }
    this.#dispatch()
  }

  #settle(request: PendingRequest, settle: () => void): void {
    this.#remove(request)
    if (!request.settled) settle()
  }

  #remove(request: PendingRequest): void {
    // The head, nearly always: shift() rather than a search.
    if (this.pending.length === 1 && this.pending[0] === request) this.pending = NO_REQUESTS
    else if (this.pending[0] === request) this.pending.shift()
    else {
      const index = this.pending.indexOf(request)
      if (index !== -1) this.pending.splice(index, 1)
      if (this.pending.length === 0) this.pending = NO_REQUESTS
    }
  }

  /** Release a grant nobody will use. A failure only delays the next holder until its ttl runs out. */
  #giveBack(owner: string): void {
    try {
      this.host.store.release(this.key, owner).catch(() => undefined)
    } catch {
      // A store that throws rather than rejects: after a failed acquire that must not keep the
      // failure from its callers.
    }
  }

  #subscribe(): void {
    if (this.#unsubscribe || !this.host.store.onRelease) return
    this.#unsubscribe = this.host.store.onRelease(this.key, (handover) => this.#wokenBy(handover))
  }

  /** A store wake-up: with a handover to the parked request, that request holds the lock already (see handover.ts). */
  #wokenBy(handover: Handover | undefined): void {
    const parked = this.#parked
    if (handover === undefined || this.#inFlight.size > 0) return this.#poke()
    if (parked?.owner !== handover.owner) return // handed to another manager: held again, and its release wakes us
    this.#parked = undefined
    const { request } = parked
    if (!usable(handover, request, this.pending[0]) || !this.#locallyGrantable('exclusive')) return this.#poke()
    clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    this.#newRound()
    this.#refused = false
    const { owner, fencingToken, heldUntil } = handover
    const lease = this.lease(owner, 'exclusive', fencingToken, request.ttl, request.autoExtend, heldUntil - request.ttl, performance.now())
    lease.renewNow()
    this.host.order.sent(request)
    this.#deliver(request, lease)
    this.#next()
  }

  /** Hand `lease` to `request` once the grants before it are delivered (or give it back: aborted while its turn came). */
  #deliver(request: PendingRequest, lease: Lease): void {
    this.#remove(request)
    if (this.host.order.answeredAlone(request)) handOver(request, lease)
    else this.host.order.answered(request, () => handOver(request, lease))
  }

  #unsubscribeNow(): void {
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    unsubscribe?.()
  }
}

/** A grant to its request, or back to the store when the request was aborted while its turn came. */
function handOver(request: PendingRequest, lease: Lease): void {
  if (request.settled) lease.release().catch(() => undefined)
  else request.grant(lease)
}
