import { publish } from './events.js'

/**
 * Every error cachelock throws is a class: `instanceof` works, each throw has its own stack, and
 * `code` is stable across releases so callers can branch on it without parsing messages.
 */

export type LockErrorCode =
  | 'LOCK_ERROR'
  | 'LOCK_STORE_ERROR'
  | 'LOCK_NOT_ACQUIRED'
  | 'LOCK_NOT_OWNED'
  | 'LOCK_LOST'
  | 'LOCK_ORDER'
  /** An ORM adapter refused a write to a row whose lock another flow holds. */
  | 'LOCK_HELD'
  /** An ORM adapter refused a write made without the row's lock from an entity loaded before a lock holder wrote the row. */
  | 'LOCK_STALE_ENTITY'
  /** A Redis grant or renewal did not reach `waitReplicas` replicas in time (`LockNotReplicatedError`). */
  | 'LOCK_NOT_REPLICATED'
  | 'LOCK_INVALID_ARGUMENT'
  | 'LOCK_NOT_SUPPORTED'

/** The base class. A store failure is a plain `LockError` with `code: 'LOCK_STORE_ERROR'` and the store's error as `cause`. */
export class LockError extends Error {
  override name = 'LockError'
  code: LockErrorCode = 'LOCK_ERROR'

  constructor(message: string, options?: { cause?: unknown; code?: LockErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    if (options?.code) this.code = options.code
  }
}

/** The lock could not be had: `timeout` ran out, or `ifAvailable`/`tryAcquire` found it taken. */
export class LockNotAcquiredError extends LockError {
  override name = 'LockNotAcquiredError'
  override code = 'LOCK_NOT_ACQUIRED' as const
  /** The lock's name. */
  readonly lockName: string

  constructor(lockName: string, message = `Lock ${describeName(lockName)} was not acquired`) {
    super(message)
    this.lockName = lockName
  }
}

/** Releasing or extending a lock this caller does not hold (already released, expired or stolen). */
export class LockNotOwnedError extends LockError {
  override name = 'LockNotOwnedError'
  override code = 'LOCK_NOT_OWNED' as const
  readonly lockName: string

  constructor(lockName: string, message = `Lock ${describeName(lockName)} is not held by this handle`) {
    super(message)
    this.lockName = lockName
  }
}

/** Why a held lock stopped being held. */
export type LockLostReason =
  /** Its ttl ran out in the store (no renewal in time: a stall, `autoExtend: false`, a crash). */
  | 'expired'
  /** Another request took it with `steal: true`. */
  | 'stolen'
  /** Someone called `forceRelease` / `release({ force: true })`. */
  | 'force-released'
  /** Renewal kept failing against the store until the ttl had certainly run out. */
  | 'store-unreachable'

/** A held lock was lost. Delivered as the reason of the lock's `signal`, never as an unhandled rejection. */
export class LockLostError extends LockError {
  override name = 'LockLostError'
  override code = 'LOCK_LOST' as const
  readonly lockName: string
  readonly reason: LockLostReason

  constructor(lockName: string, reason: LockLostReason, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? `Lock ${describeName(lockName)} was lost (${reason})`, { cause: options?.cause })
    this.lockName = lockName
    this.reason = reason
  }
}

/**
 * A record lock was requested inside another in an order that can deadlock against a flow taking
 * the same two records the other way round. Thrown only with `strictLockOrder: true`.
 */
export class LockOrderError extends LockError {
  override name = 'LockOrderError'
  override code = 'LOCK_ORDER' as const
  readonly lockName: string
  readonly heldName: string

  constructor(lockName: string, heldName: string) {
    super(
      `Lock ${describeName(lockName)} requested while holding ${describeName(heldName)}, which sorts after it: ` +
        'another flow taking both in sorted order can deadlock with this one. Take both at once ' +
        '(withLock([...])) or in sorted order.',
    )
    this.lockName = lockName
    this.heldName = heldName
  }
}

/**
 * A grant or renewal was written on the Redis primary but fewer than `waitReplicas` replicas
 * acknowledged it within `waitTimeoutMs` (`RedisStore`'s WAIT option), so a failover could lose it.
 * A grant (acquire, steal) was given back before this was thrown: nobody holds a lock they were
 * not told about. A renewal leaves the lock held, but does not count as confirmed.
 */
export class LockNotReplicatedError extends LockError {
  override name = 'LockNotReplicatedError'
  override code = 'LOCK_NOT_REPLICATED' as const
  /** The store key (prefix + name). */
  readonly key: string
  readonly operation: 'acquire' | 'steal' | 'extend'
  /** Replicas that acknowledged in time. */
  readonly acknowledged: number
  /** Replicas required (`waitReplicas`). */
  readonly required: number

  constructor(init: { key: string; operation: 'acquire' | 'steal' | 'extend'; acknowledged: number; required: number; timeoutMs: number }) {
    const outcome = init.operation === 'extend' ? 'the lock is kept, unconfirmed' : 'the grant was released'
    super(
      `Lock ${describeName(init.key)}: ${init.operation} reached ${init.acknowledged} of ${init.required} required replica(s) ` +
        `within ${init.timeoutMs} ms; ${outcome}`,
    )
    this.key = init.key
    this.operation = init.operation
    this.acknowledged = init.acknowledged
    this.required = init.required
  }
}

/**
 * Bad input: raised before anything touches the store, so no lock is left behind.
 * Also a `TypeError`, as Web Locks throws for bad arguments.
 *
 * `code` is `LOCK_INVALID_ARGUMENT` for a wrong type or value (Web Locks' `TypeError`) and
 * `LOCK_NOT_SUPPORTED` for a name or option combination the API refuses (Web Locks'
 * `NotSupportedError`): a name starting with `-`, `steal` with `ifAvailable`, and so on.
 */
export class InvalidLockArgumentError extends TypeError {
  override name = 'InvalidLockArgumentError'
  readonly code: 'LOCK_INVALID_ARGUMENT' | 'LOCK_NOT_SUPPORTED'
  /** The argument at fault, e.g. `options.ttl`. */
  readonly argument: string

  constructor(argument: string, message: string, code: 'LOCK_INVALID_ARGUMENT' | 'LOCK_NOT_SUPPORTED' = 'LOCK_INVALID_ARGUMENT') {
    super(message)
    this.argument = argument
    this.code = code
  }
}

// InvalidLockArgumentError must be a TypeError (Web Locks) and a LockError (one catch for the
// library). JavaScript has single inheritance, so LockError's instanceof also accepts it.
const lockErrorHasInstance = Function.prototype[Symbol.hasInstance]
Object.defineProperty(LockError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    if (this === LockError && value instanceof InvalidLockArgumentError) return true
    return lockErrorHasInstance.call(this, value)
  },
})

/**
 * A store call did not answer within the manager's `storeTimeout` (or, for a waiting request, the
 * store gave no answer during its whole `timeout`). It is the `cause` of the `LockError`
 * (`LOCK_STORE_ERROR`) the caller gets; the call itself may still complete later (a grant that
 * arrives late is released).
 */
export class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError'
  readonly code = 'ETIMEDOUT'
  /** The store operation: `acquire`, `release`, `extend`, `steal`, `force-release`, `query`. */
  readonly operation: string
  readonly timeoutMs: number

  constructor(operation: string, lockName: string, timeoutMs: number) {
    super(`The store did not answer ${operation} of lock ${describeName(lockName)} within ${timeoutMs} ms`)
    this.operation = operation
    this.timeoutMs = timeoutMs
  }
}

/**
 * Wrap a store's failure so callers see one error family, with the original as `cause`. A store
 * that threw a `LockError` with a code of its own (e.g. `LockNotReplicatedError`) already said
 * what happened in the library's terms: that error passes through, so callers can branch on it.
 */
export function storeError(operation: string, lockName: string, cause: unknown, context = ''): LockError {
  // The one place every store failure passes on its way to a caller: observed here, once.
  publish('storeError', () => ({ name: lockName, operation, error: cause }))
  if (cause instanceof LockError && cause.code !== 'LOCK_ERROR') return cause
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new LockError(`Store failed to ${operation} lock ${describeName(lockName)}${context}: ${detail}`, {
    cause,
    code: 'LOCK_STORE_ERROR',
  })
}

/** A lock name for messages: quoted, with control characters and long tails made visible. */
export function describeName(name: string): string {
  const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name
  return JSON.stringify(shown)
}
