import diagnostics from 'node:diagnostics_channel'
import type { LockLostError } from './errors.js'
import type { LockMode } from './store.js'

/**
 * Observability through `node:diagnostics_channel`, the channel APMs and OpenTelemetry
 * instrumentations subscribe to. Publishing to a channel nobody listens to costs a property read.
 *
 * ```ts
 * import diagnostics from 'node:diagnostics_channel'
 * diagnostics.subscribe('cachelock:acquired', (event) => metrics.observe(event.waitMs))
 * ```
 */
export const channelNames = {
  acquired: 'cachelock:acquired',
  released: 'cachelock:released',
  extended: 'cachelock:extended',
  lost: 'cachelock:lost',
  finalized: 'cachelock:finalized',
  lockOrder: 'cachelock:lock-order',
  notAcquired: 'cachelock:not-acquired',
  storeError: 'cachelock:store-error',
} as const

/** Fields every lock event carries. */
export interface LockEventBase {
  /** The lock name as the caller gave it. */
  name: string
  /** The store key (prefix + name). */
  key: string
  mode: LockMode
  /** The manager's id (the same `clientId` that `query()` reports). */
  clientId: string
  fencingToken: number
}

export interface AcquiredEvent extends LockEventBase {
  /** Milliseconds from the request to the grant. */
  waitMs: number
  stolen: boolean
}

export interface ReleasedEvent extends LockEventBase {
  /** Milliseconds from the grant to the release. */
  heldMs: number
  /** Set when the store failed to release: the lock then expires after its ttl. */
  error?: unknown
}

export interface ExtendedEvent extends LockEventBase {
  ttlMs: number
  /** True for auto-extension, false for an explicit `extend()`. */
  automatic: boolean
}

export interface LostEvent extends LockEventBase {
  error: LockLostError
}

/** A `LockHandle` was garbage-collected while still held, and its lock released. */
export interface FinalizedEvent extends LockEventBase {
  heldMs: number
}

/** A record lock requested out of sorted order inside another (see `strictLockOrder`). */
export interface LockOrderEvent {
  name: string
  heldName: string
  /** Whether `strictLockOrder` made it throw. */
  thrown: boolean
}

/** A request ended without the lock (`ifAvailable`/`timeout: 0` refused, timed out, aborted, store failed). */
export interface NotAcquiredEvent {
  name: string
  key: string
  mode: LockMode
  clientId: string
  /** Milliseconds from the request to giving up. */
  waitMs: number
  /**
   * `timeout`: its `timeout` ran out, or its `signal` was an `AbortSignal.timeout()`;
   * `unavailable`: taken, and it would not wait; `aborted`: its `signal` aborted; `store-error`:
   * the store failed (also on `cachelock:store-error`).
   */
  reason: 'timeout' | 'unavailable' | 'aborted' | 'store-error'
  /** What the caller got, when it was rejected (not for an `ifAvailable` callback called with `null`). */
  error?: unknown
}

/** A store call failed. Every failure a caller (or a held lock's renewal) sees passes here once. */
export interface StoreErrorEvent {
  name: string
  /** `acquire`, `release`, `extend`, `renew` (automatic), `steal`, `force-release`, `query`. */
  operation: string
  error: unknown
}

export const channels = {
  acquired: diagnostics.channel(channelNames.acquired),
  released: diagnostics.channel(channelNames.released),
  extended: diagnostics.channel(channelNames.extended),
  lost: diagnostics.channel(channelNames.lost),
  finalized: diagnostics.channel(channelNames.finalized),
  lockOrder: diagnostics.channel(channelNames.lockOrder),
  notAcquired: diagnostics.channel(channelNames.notAcquired),
  storeError: diagnostics.channel(channelNames.storeError),
}

export function publish<K extends keyof typeof channels>(
  channel: K,
  build: () => {
    acquired: AcquiredEvent
    released: ReleasedEvent
    extended: ExtendedEvent
    lost: LostEvent
    finalized: FinalizedEvent
    lockOrder: LockOrderEvent
    notAcquired: NotAcquiredEvent
    storeError: StoreErrorEvent
  }[K],
): void {
  const target = channels[channel]
  if (target.hasSubscribers) target.publish(build())
}
