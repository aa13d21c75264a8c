import { StoreTimeoutError } from './errors.js'
import type { PendingRequest } from './pending-request.js'

/** A store attempt that is out. */
interface Attempt {
  readonly sentAt: number
  /** How many attempts the store had answered when this one was sent. */
  readonly answersBefore: number
  /** Called once the attempt's outcome has been applied (for `settled()`). */
  waiters?: (() => void)[]
}

/**
 * The store attempts out for one lock name in one manager, and what the store's answers say about
 * its health: the last failure (until it answers again) and how many answers came, so a request
 * that got no lock can tell a busy lock from a store that stopped answering.
 */
export class Attempts {
  readonly #out = new Map<PendingRequest, Attempt>()
  #answers = 0
  #failure: { error: unknown } | undefined

  get size(): number {
    return this.#out.size
  }

  has(request: PendingRequest): boolean {
    return this.#out.has(request)
  }

  /** Whether an exclusive request is being asked for (nothing else may go beside it). */
  exclusiveOut(): boolean {
    for (const request of this.#out.keys()) if (request.mode === 'exclusive') return true
    return false
  }

  /** `request`'s attempt is out; pass what this returns to `applied` once its outcome is applied. */
  sent(request: PendingRequest, sentAt: number): Attempt {
    const attempt = { sentAt, answersBefore: this.#answers }
    this.#out.set(request, attempt)
    return attempt
  }

  /** The store answered `request`'s attempt (granted or refused). */
  answered(request: PendingRequest): void {
    this.#answers++
    this.#failure = undefined
    this.#out.delete(request)
  }

  /** `request`'s attempt failed with `error`. */
  failed(request: PendingRequest, error: unknown): void {
    this.#failure = { error }
    this.#out.delete(request)
  }

  /** Tell whoever awaits `settled()` that `request`'s outcome is applied. */
  applied(attempt: Attempt): void {
    attempt?.waiters?.forEach((settled) => settled())
  }

  /** Resolves once every attempt out now has settled and its outcome is applied. */
  async settled(): Promise<void> {
    await Promise.all([...this.#out.values()].map((attempt) => new Promise<void>((resolve) => (attempt.waiters ??= []).push(resolve))))
  }

  /**
   * Why a request waiting since `since` got no lock, when the store is to blame: its last attempt
   * for this name failed, or the store has left an attempt unanswered for at least half of that
   * wait (a healthy store answers in a round trip; the other half covers a pause between attempts).
   */
  storeTrouble(name: string, since: number): unknown {
    if (this.#failure) return this.#failure.error
    const now = performance.now()
    let oldest: Attempt | undefined
    for (const attempt of this.#out.values()) if (!oldest || attempt.sentAt < oldest.sentAt) oldest = attempt
    if (!oldest || oldest.sentAt > since + (now - since) / 2 || this.#answers > oldest.answersBefore) return undefined
    return new StoreTimeoutError('acquire', name, Math.round(now - oldest.sentAt))
  }
}
