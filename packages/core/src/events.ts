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

export const channels = {
  acquired: diagnostics.channel(channelNames.acquired),
  released: diagnostics.channel(channelNames.released),
  extended: diagnostics.channel(channelNames.extended),
  lost: diagnostics.channel(channelNames.lost),
  finalized: diagnostics.channel(channelNames.finalized),
  lockOrder: diagnostics.channel(channelNames.lockOrder),
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
  }[K],
): void {
  const target = channels[channel]
  if (target.hasSubscribers) target.publish(build())
}
