import { StoreTimeoutError } from './errors.js'

/** What to do with one bounded call's outcome. */
export interface Watcher<T> {
  /**
   * Keep the process alive while the call is out, as `setTimeout` does: on for calls a caller
   * awaits, off for housekeeping (renewal, a finalizer's release).
   */
  readonly keepAlive: boolean
  /** The store answered in time. */
  value(value: T): void
  /** The store failed, or did not answer in time (a `StoreTimeoutError`). */
  error(error: unknown): void
  /**
   * The store's answer arrived after the deadline: the caller has moved on, so whatever the call
   * took (a grant) must be given back here.
   */
  late?(value: T): void
}

/** A call that is out. */
interface Out {
  readonly started: number
  readonly operation: string
  readonly lockName: string
  readonly watcher: Watcher<never>
  timedOut: boolean
  /** Neighbours in the list of calls out (oldest first). */
  prev: Out | undefined
  next: Out | undefined
}

/**
 * The manager's `storeTimeout`: every store call the manager makes settles within it. A store
 * that hangs (a frozen server, a client that queues commands while it reconnects) makes the
 * call fail with `StoreTimeoutError`; the call itself may still complete later, which `late`
 * handles.
 *
 * One timer serves every call, armed for the oldest call's deadline (all calls share the same
 * timeout, so the oldest is due first) and re-armed only when it fires: the uncontended path pays
 * a Set insertion per call, not a timer. It keeps the process alive only while a call that a
 * caller awaits is out.
 */
export class StoreDeadline {
  readonly ms: number
  /**
   * Calls out, oldest first: a doubly linked list through the calls themselves (adding and removing
   * one is a few field writes, where a Set would hash every call's object).
   */
  #oldest: Out | undefined
  #newest: Out | undefined
  /** How many calls out keep the process alive. */
  #keepAlive = 0
  #unrefSoon = false
  #timer: NodeJS.Timeout | undefined

  /** The store answers every call at once, in this process (`answersAtOnce`): no call to watch. */
  readonly #immediate: boolean

  constructor(ms: number, immediate = false) {
    this.ms = ms
    this.#immediate = immediate
  }

  /**
   * Call the store and hand the outcome to `watcher`, within the deadline counted from `started`
   * (`performance.now()` just before the call).
   */
  watch<T>(operation: string, lockName: string, call: () => Promise<T>, watcher: Watcher<T>, started?: number): void {
    const at = this.#immediate ? 0 : (started ?? performance.now())
    let promise: Promise<T>
    try {
      promise = call()
    } catch (error) {
      watcher.error(error)
      return
    }
    if (this.#immediate) {
      // Settled already: nothing can time out, and nothing needs the process kept alive.
      promise.then(
        (value) => watcher.value(value),
        (error: unknown) => watcher.error(error),
      )
      return
    }
    const out: Out = { started: at, operation, lockName, watcher, timedOut: false, prev: undefined, next: undefined }
    this.#add(out)
    promise.then(
      (value) => {
        if (out.timedOut) watcher.late?.(value)
        else {
          this.#remove(out)
          watcher.value(value)
        }
      },
      (error: unknown) => {
        if (out.timedOut) return
        this.#remove(out)
        watcher.error(error)
      },
    )
  }

  /** `watch` as a promise. */
  bound<T>(
    operation: string,
    lockName: string,
    call: () => Promise<T>,
    options: { keepAlive: boolean; late?: (value: T) => void },
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.watch(operation, lockName, call, { keepAlive: options.keepAlive, value: resolve, error: reject, late: options.late })
    })
  }

  #add(out: Out): void {
    out.prev = this.#newest
    if (this.#newest) this.#newest.next = out
    else this.#oldest = out
    this.#newest = out
    if (out.watcher.keepAlive && this.#keepAlive++ === 0) this.#timer?.ref()
    if (this.#timer === undefined) this.#arm(out.started + this.ms)
  }

  #remove(out: Out): void {
    if (out.prev) out.prev.next = out.next
    else this.#oldest = out.next
    if (out.next) out.next.prev = out.prev
    else this.#newest = out.prev
    out.prev = out.next = undefined
    if (out.watcher.keepAlive && --this.#keepAlive === 0 && !this.#unrefSoon) {
      // Calls come in bursts (acquire, then release): let the process go once the burst is over,
      // rather than flip the timer's ref between every two calls.
      this.#unrefSoon = true
      setImmediate(() => {
        this.#unrefSoon = false
        if (this.#keepAlive === 0) this.#timer?.unref()
      })
    }
  }

  #arm(at: number): void {
    // After an event-loop stall the timer phase runs before the replies that arrived during it
    // are read: look at the calls once pending I/O has been processed (setImmediate runs after it).
    this.#timer = setTimeout(() => setImmediate(() => this.#expire()), Math.max(0, at - performance.now()))
    if (this.#keepAlive === 0) this.#timer.unref()
  }

  #expire(): void {
    this.#timer = undefined
    const now = performance.now()
    for (let out = this.#oldest; out !== undefined; out = this.#oldest) {
      if (now - out.started < this.ms) {
        this.#arm(out.started + this.ms)
        return
      }
      this.#remove(out)
      out.timedOut = true
      out.watcher.error(new StoreTimeoutError(out.operation, out.lockName, this.ms))
    }
  }
}
