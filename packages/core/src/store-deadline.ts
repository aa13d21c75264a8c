import { StoreTimeoutError } from './errors.js'

/** How one bounded call behaves besides its deadline. */
export interface BoundOptions<T> {
  /**
   * Keep the process alive while the call is out, as `setTimeout` does: on for calls a caller
   * awaits, off for housekeeping (renewal, a finalizer's release).
   */
  keepAlive: boolean
  /**
   * Called with the store's answer when it arrives after the deadline: the caller has moved on,
   * so whatever the call took (a grant) must be given back here.
   */
  late?: (value: T) => void
}

/**
 * The manager's `storeTimeout`: every store call the manager makes settles within it. A store
 * that hangs (a frozen server, a client that queues commands while it reconnects) makes the
 * call reject with `StoreTimeoutError`; the call itself may still complete later, which `late`
 * handles.
 */
export class StoreDeadline {
  readonly ms: number

  constructor(ms: number) {
    this.ms = ms
  }

  bound<T>(operation: string, lockName: string, call: () => Promise<T>, options: BoundOptions<T>): Promise<T> {
    let promise: Promise<T>
    try {
      promise = call()
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise<T>((resolve, reject) => {
      let timedOut = false
      const timer = setTimeout(() => {
        // After an event-loop stall the timer phase runs before the replies that arrived during it
        // are read: look again once pending I/O has been processed (setImmediate runs after it).
        setImmediate(() => {
          if (settled) return
          timedOut = true
          reject(new StoreTimeoutError(operation, lockName, this.ms))
        })
      }, this.ms)
      if (!options.keepAlive) timer.unref()
      let settled = false
      promise.then(
        (value) => {
          settled = true
          clearTimeout(timer)
          if (timedOut) options.late?.(value)
          else resolve(value)
        },
        (error: unknown) => {
          settled = true
          clearTimeout(timer)
          if (!timedOut) reject(error)
        },
      )
    })
  }
}
