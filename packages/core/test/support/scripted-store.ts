import { MemoryStore, type AcquireRequest, type AcquireResult } from '@cachelock/core'

/** One `acquire` the test holds back: answer it (from the memory store, or as given) or fail it. */
export interface HeldAttempt {
  readonly request: AcquireRequest
  /** Answer with what the memory store says now. */
  pass(): void
  /** Answer with `result`, whatever the memory store would say (an answer that was true when sent). */
  answer(result: AcquireResult): void
  fail(error: Error): void
}

/**
 * A memory store whose `acquire` calls the test answers one by one, in any order: the queue's
 * unit tests use it to put answers, refusals and failures exactly where a real network would put
 * them some of the time. Only for the queue's tests; the contract suite runs real servers.
 */
export class ScriptedStore extends MemoryStore {
  /** Every `acquire` call, in order. */
  readonly requests: AcquireRequest[] = []
  /** The calls not answered yet, in order. */
  readonly held: HeldAttempt[] = []
  /** Whether to hold the next call back (else the memory store answers at once). */
  hold: (request: AcquireRequest) => boolean = () => true

  /** `wakeUps: false`: a store with no `onRelease` (waiters learn of releases only by asking). */
  constructor(options: { wakeUps?: boolean } = {}) {
    super()
    if (options.wakeUps === false) Object.defineProperty(this, 'onRelease', { value: undefined })
  }

  override acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.requests.push(request)
    if (!this.hold(request)) return super.acquire(request)
    return new Promise<AcquireResult>((resolve, reject) => {
      const settle = (then: () => void) => () => {
        this.held.splice(this.held.indexOf(attempt), 1)
        then()
      }
      const attempt: HeldAttempt = {
        request,
        pass: () => settle(() => resolve(super.acquire(request)))(),
        answer: (result) => settle(() => resolve(result))(),
        fail: (error) => settle(() => reject(error))(),
      }
      this.held.push(attempt)
    })
  }
}
