import { StoreTimeoutError } from './errors.js'
import type { PendingRequest } from './pending-request.js'

/** A store attempt that is out. */
interface Attempt {
  readonly request: PendingRequest
  readonly sentAt: number
  /** How many attempts the store had answered when this one was sent. */
  readonly answersBefore: number
  /** Called once the attempt's outcome has been applied (for `settled()`). */
  waiters?: (() => void)[]
}

/** The list of no attempts, shared (frozen: a push into it would be a bug, and throws). */
const NONE: Attempt[] = Object.freeze([]) as unknown as Attempt[]

/**
 * The store attempts out for one lock name in one manager, and what the store's answers say about
 * its health: the last failure (until it answers again) and how many answers came, so a request
 * that got no lock can tell a busy lock from a store that stopped answering.
 */
export class Attempts {
  /**
   * The attempts out, oldest first, at most one per request: a few at most, so a list (searched)
   * rather than a Map, and a shared empty one while none is out, so a name whose lock is only held
   * keeps no list.
   */
  #out = NONE
  #answers = 0
  #failure: { error: unknown } | undefined

  get size(): number {
    return this.#out.length
  }

  has(request: PendingRequest): boolean {
    return this.#out.some((attempt) => attempt.request === request)
  }

  /** Whether an exclusive request is being asked for (nothing else may go beside it). */
  exclusiveOut(): boolean {
    return this.#out.some((attempt) => attempt.request.mode === 'exclusive')
  }

  /** `request`'s attempt is out; pass what this returns to `applied` once its outcome is applied. */
  sent(request: PendingRequest, sentAt: number): Attempt {
    const attempt = { request, sentAt, answersBefore: this.#answers }
    this.#remove(request)
    if (this.#out === NONE) this.#out = [attempt]
    else this.#out.push(attempt)
    return attempt
  }

  /** The store answered `request`'s attempt (granted or refused). */
  answered(request: PendingRequest): void {
    this.#answers++
    this.#failure = undefined
    this.#remove(request)
  }

  /** `request`'s attempt failed with `error`. */
  failed(request: PendingRequest, error: unknown): void {
    this.#failure = { error }
    this.#remove(request)
  }

  #remove(request: PendingRequest): void {
    const out = this.#out
    const index = out.findIndex((attempt) => attempt.request === request)
    if (index === -1) return
    if (out.length === 1) this.#out = NONE
    else out.splice(index, 1)
  }

  /** Tell whoever awaits `settled()` that `request`'s outcome is applied. */
  applied(attempt: Attempt): void {
    attempt?.waiters?.forEach((settled) => settled())
  }

  /** Resolves once every attempt out now has settled and its outcome is applied. */
  async settled(): Promise<void> {
    await Promise.all(this.#out.map((attempt) => new Promise<void>((resolve) => (attempt.waiters ??= []).push(resolve))))
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
    for (const attempt of this.#out) if (!oldest || attempt.sentAt < oldest.sentAt) oldest = attempt
    if (!oldest || oldest.sentAt > since + (now - since) / 2 || this.#answers > oldest.answersBefore) return undefined
    return new StoreTimeoutError('acquire', name, Math.round(now - oldest.sentAt))
  }
}
