/** A database call did not answer within the store's `queryTimeoutMs`. The statement may still run later. */
export class DatabaseTimeoutError extends Error {
  override name = 'DatabaseTimeoutError'
  readonly code = 'ETIMEDOUT'

  constructor(database: string, operation: string, timeoutMs: number) {
    super(`${database} did not answer ${operation} within ${timeoutMs} ms`)
  }
}

/**
 * Reject with `DatabaseTimeoutError` when `call` has not settled after `timeoutMs` (0: never).
 *
 * A backstop for pools that would wait forever: `pg`'s `connectionTimeoutMillis` defaults to 0
 * (wait for a free connection indefinitely), and a server that stopped answering without closing
 * its sockets (frozen, a network black hole) never errors by itself. The timer is unref'd: the
 * call's own socket keeps the process alive while it runs, and a statement that never answers
 * must not keep a finished process alive.
 */
export function withDeadline<T>(call: Promise<T>, timeoutMs: number, database: string, operation: string): Promise<T> {
  if (timeoutMs <= 0) return call
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DatabaseTimeoutError(database, operation, timeoutMs)), timeoutMs)
    timer.unref()
    call.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
