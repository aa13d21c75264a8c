import { LockLostError, storeError, type LockLostReason } from './errors.js'
import { channels, publish } from './events.js'
import type { QueueHost } from './queue-host.js'
import { retryRelease } from './release-retry.js'
import type { Renewable } from './renewal-batch.js'
import type { LockMode, Renewal } from './store.js'

/**
 * Where a lease is held: its name's queue in a manager, which every lease of the name shares (so a
 * held lock keeps one reference here rather than a copy of each of these).
 */
export interface LeaseHome {
  readonly name: string
  readonly key: string
  /** The manager's store, deadline, clientId and renewal batch (without it, the lease renews on a timer of its own). */
  readonly host: Pick<QueueHost, 'store' | 'deadline' | 'clientId' | 'renewals'>
  /** Called once when `lease` stops being held here (released, lost, finalized). */
  leaseEnded(lease: Lease): void
}

type LeaseState = 'held' | 'released' | 'lost'

/**
 * One grant, as the manager tracks it: renewal, expiry, loss and release against the store.
 * Internal; users see it through `Lock` and `LockHandle`.
 *
 * A lease never references its `LockHandle` strongly: it keeps a `WeakRef`, so a handle the app
 * dropped can be collected and its lock released (the renewal timer stops renewing an unreachable
 * handle's lock, so even without a finalizer the lock expires within ttl).
 */
export class Lease implements Renewable {
  readonly mode: LockMode
  readonly owner: string
  readonly fencingToken: number
  /** `performance.now()` when the grant was asked for (what `heldMs` in events counts from). */
  readonly grantedAt: number
  // @internal `RenewalBatch`'s bookkeeping, kept here so that a scheduled renewal costs no entry of its own.
  renewalIndex = -1
  renewalDueAt = 0
  renewalFrom = 0
  readonly #home: LeaseHome
  /** Made when `signal` is first read: most locks are released without anyone reading it. */
  #controller: AbortController | undefined
  readonly #autoExtend: boolean
  #ttl: number
  #confirmedAt: number
  #state: LeaseState = 'held'
  #renewal: NodeJS.Timeout | undefined
  #lossTimer: NodeJS.Timeout | undefined
  #lastRenewalError: unknown
  #renewalSentAt: number | undefined
  #handle: WeakRef<object> | undefined
  #onLost: ((error: LockLostError) => void) | undefined
  /** Why the lock was lost, once it was: the signal's reason, kept here since the signal may not exist yet. */
  #lost: LockLostError | undefined

  /**
   * @param confirmedAt `performance.now()` when the store call that granted it was sent: the ttl counts from there
   * @param grantedAt when it was granted, for how long it was held (a handover is confirmed for less than its ttl)
   */
  constructor(
    home: LeaseHome,
    owner: string,
    mode: LockMode,
    fencingToken: number,
    ttl: number,
    autoExtend: boolean,
    confirmedAt: number,
    grantedAt = confirmedAt,
  ) {
    this.#home = home
    this.owner = owner
    this.mode = mode
    this.fencingToken = fencingToken
    this.#ttl = ttl
    this.#autoExtend = autoExtend
    this.#confirmedAt = confirmedAt
    this.grantedAt = grantedAt
    this.#schedule()
  }

  get name(): string {
    return this.#home.name
  }

  get key(): string {
    return this.#home.key
  }

  get clientId(): string {
    return this.#home.host.clientId
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#lost) this.#controller.abort(this.#lost)
    }
    return this.#controller.signal
  }

  /** Why the lock was lost (the signal's reason), once it was. */
  get lost(): LockLostError | undefined {
    return this.#lost
  }

  get held(): boolean {
    return this.#state === 'held'
  }

  get ttl(): number {
    return this.#ttl
  }

  /** Call `listener` once when the lock is lost (one listener: the request running under it), at once if it already was. */
  onLost(listener: (error: LockLostError) => void): void {
    if (this.#lost) listener(this.#lost)
    else this.#onLost = listener
  }

  /** Tie this lease to a handle: once the handle is unreachable, renewal stops and the lock is released. */
  attachHandle(handle: object): void {
    this.#handle = new WeakRef(handle)
  }

  /**
   * Release in the store. Resolves `true` when this owner's hold was removed, `false` when it
   * was already gone (and the signal is then aborted, since the work ran unprotected for a while).
   * A store failure rejects with `LockError`; renewal has stopped, so the lock expires within ttl.
   * `keepAlive` off (a finalizer's release) lets the process exit while the call is out.
   */
  release(force = false, keepAlive = true): Promise<boolean> {
    if (this.#state !== 'held') return Promise.resolve(false)
    return new Promise<boolean>((resolve, reject) => this.releaseThen(resolve, reject, force, keepAlive))
  }

  /** `release()` with callbacks: the manager's own path, one promise fewer for every lock. */
  releaseThen(done: (removed: boolean) => void, failed: (error: unknown) => void, force = false, keepAlive = true): void {
    if (this.#state !== 'held') return done(false)
    this.#state = 'released'
    this.#clearTimer()
    this.#home.host.deadline.watch(
      force ? 'force-release' : 'release',
      this.name,
      () => (force ? this.#home.host.store.forceRelease(this.key) : this.#home.host.store.release(this.key, this.owner)),
      {
        keepAlive,
        value: (removed) => {
          if (channels.released.hasSubscribers)
            publish('released', () => ({ ...this.#eventBase(), heldMs: performance.now() - this.grantedAt }))
          if (!removed && !force) this.#abort('expired')
          this.#end()
          done(removed || force)
        },
        error: (cause) => {
          publish('released', () => ({ ...this.#eventBase(), heldMs: performance.now() - this.grantedAt, error: cause }))
          this.#end()
          if (!force)
            retryRelease(this.#home.host, { name: this.name, key: this.key, owner: this.owner, expiresAt: this.#confirmedAt + this.#ttl })
          failed(storeError('release', this.name, cause))
        },
      },
    )
  }

  /**
   * Make the lock live `ttl` ms from now, and renew with that ttl from then on. Resolves `false`
   * (and aborts the signal) when the store says this owner no longer holds it. `operation` names
   * the call in a store failure's message (`ensureHeld` confirms; the store call is the same).
   */
  async extend(ttl: number, automatic = false, operation = 'extend'): Promise<boolean> {
    if (this.#state !== 'held') return false
    const sentAt = performance.now()
    let kept: boolean
    try {
      // Renewal is housekeeping: it must not keep a process that is done alive.
      kept = await this.#home.host.deadline.bound(operation, this.name, () => this.#home.host.store.extend(this.key, this.owner, ttl), {
        keepAlive: !automatic,
      })
    } catch (cause) {
      if (automatic) throw cause
      throw storeError(operation, this.name, cause)
    }
    return this.#extended(ttl, sentAt, kept, automatic)
  }

  /** The store answered a renewal sent at `sentAt`. */
  #extended(ttl: number, sentAt: number, kept: boolean, automatic: boolean): boolean {
    if (this.#state !== 'held') return false
    if (!kept) {
      this.markLost('expired')
      return false
    }
    this.#ttl = ttl
    this.#confirmedAt = sentAt
    this.#schedule()
    publish('extended', () => ({ ...this.#eventBase(), ttlMs: ttl, automatic }))
    return true
  }

  /** @internal For `RenewalBatch`: the automatic renewal is due; what to send, if anything. */
  renewalDue(): Renewal | undefined {
    if (!this.#renewalStarts()) return undefined
    return { key: this.key, owner: this.owner, ttlMs: this.#ttl }
  }

  /** @internal For `RenewalBatch`: the store's answer to the renewal `renewalDue` gave. */
  renewalAnswered(sentAt: number, outcome: { kept: boolean } | { error: unknown }): void {
    this.#renewalSentAt = undefined
    if ('error' in outcome) return this.#renewalFailed(outcome.error)
    this.#lastRenewalError = undefined
    this.#extended(this.#ttl, sentAt, outcome.kept, true)
  }

  /**
   * Renew now, with the loss deadline armed: for a lock the store confirmed for less than its ttl
   * (a handover), which must be renewed to it before anyone relies on the rest.
   */
  renewNow(): void {
    this.#clearTimer()
    void this.#renew()
  }

  /** Abort the signal with `LockLostError` and stop tracking. Idempotent. */
  markLost(reason: LockLostReason, cause?: unknown): void {
    if (this.#state !== 'held') return
    this.#state = 'lost'
    this.#clearTimer()
    this.#abort(reason, cause)
    this.#end()
  }

  /** Release on behalf of a handle that was garbage-collected while held. */
  finalize(): void {
    if (this.#state !== 'held') return
    const heldMs = performance.now() - this.grantedAt
    this.release(false, false).then(
      () => publish('finalized', () => ({ ...this.#eventBase(), heldMs })),
      // The failure is already on the `released` channel and the ttl will free the lock; a
      // finalizer has nobody to report to, and must not raise an unhandled rejection.
      () => undefined,
    )
  }

  #abort(reason: LockLostReason, cause?: unknown): void {
    if (this.#lost) return
    const error = new LockLostError(this.name, reason, { cause })
    this.#lost = error
    this.#controller?.abort(error)
    publish('lost', () => ({ ...this.#eventBase(), error }))
    const onLost = this.#onLost
    this.#onLost = undefined
    onLost?.(error)
  }

  #end(): void {
    this.#home.leaseEnded(this)
  }

  /** Arm the renewal timer (with `autoExtend`) and the loss deadline at which the lock is certainly gone. */
  #schedule(): void {
    this.#clearTimer()
    if (this.#state !== 'held') return
    // With autoExtend the loss deadline is armed when a renewal starts: the renewal is due first
    // (ttl/3 < ttl), so a lock held briefly, as most are, costs one timer instead of two.
    // Counted from the store's confirmation, as the ttl is (no clock read of its own).
    if (this.#autoExtend) this.#renewIn(this.#ttl / 3, this.#confirmedAt)
    else this.#armDeadline()
  }

  #armDeadline(): void {
    if (this.#lossTimer !== undefined) return
    const deadline = this.#confirmedAt + this.#ttl
    // The loss deadline does not wait for a renewal call that hangs (a client queueing commands while
    // it reconnects): once a full ttl has passed since the store last confirmed the lock, the
    // store has expired it by its own clock, and the holder must hear so now.
    this.#lossTimer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()))
    // A held lock must not keep the process alive: an app that is done may exit; the ttl frees it.
    this.#lossTimer.unref()
  }

  #renewIn(delay: number, from = performance.now()): void {
    if (this.#renewal !== undefined) clearTimeout(this.#renewal)
    const due = from + Math.max(0, delay)
    const renewals = this.#home.host.renewals
    if (renewals) return renewals.schedule(this, due, due - this.#ttl / 30)
    this.#renewal = setTimeout(() => void this.#renew(), Math.max(0, delay))
    this.#renewal.unref()
  }

  #expire(): void {
    this.#lossTimer = undefined
    // Unreachable only if renewals failed, or one has gone unanswered far longer than a healthy
    // store takes. After an event-loop stall the overdue renewal was only just sent: the lock
    // simply outlived its ttl.
    const unanswered = this.#renewalSentAt !== undefined && performance.now() - this.#renewalSentAt > this.#ttl / 3
    if (this.#lastRenewalError !== undefined || unanswered) this.markLost('store-unreachable', this.#lastRenewalError)
    else this.markLost('expired')
  }

  async #renew(): Promise<void> {
    if (!this.#renewalStarts()) return
    try {
      await this.extend(this.#ttl, true)
      this.#lastRenewalError = undefined
    } catch (cause) {
      this.#renewalFailed(cause)
    } finally {
      this.#renewalSentAt = undefined
    }
  }

  /** Whether an automatic renewal goes out now (and, if so, with the loss deadline armed). */
  #renewalStarts(): boolean {
    this.#renewal = undefined
    if (this.#state !== 'held') return false
    if (this.#handle && this.#handle.deref() === undefined) {
      this.finalize()
      return false
    }
    // From here a renewal may hang: the loss deadline bounds it, and stays armed while retries fail.
    this.#armDeadline()
    this.#renewalSentAt = performance.now()
    return true
  }

  #renewalFailed(cause: unknown): void {
    if (this.#state !== 'held') return
    publish('storeError', () => ({ name: this.name, operation: 'renew', error: cause }))
    // The store did not answer. The lock may still be ours until the loss deadline: keep trying.
    this.#lastRenewalError = cause
    const remaining = this.#confirmedAt + this.#ttl - performance.now()
    this.#renewIn(Math.min(this.#ttl / 3, Math.max(remaining, 0)))
  }

  #clearTimer(): void {
    if (this.renewalIndex !== -1) this.#home.host.renewals?.cancel(this)
    if (this.#renewal !== undefined) clearTimeout(this.#renewal)
    if (this.#lossTimer !== undefined) clearTimeout(this.#lossTimer)
    this.#renewal = undefined
    this.#lossTimer = undefined
  }

  #eventBase() {
    return {
      name: this.name,
      key: this.key,
      mode: this.mode,
      clientId: this.clientId,
      fencingToken: this.fencingToken,
    }
  }
}
