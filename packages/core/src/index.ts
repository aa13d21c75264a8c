// @cachelock/core: the app's API. Store authors: @cachelock/core/store-kit (and the contract suite,
// @cachelock/core/testing); adapter authors: @cachelock/core/adapter-kit. The stores that need a
// driver are entries of their own: @cachelock/core/redis, /memcached, /postgres, /mysql, /sqlite.
export { LockManager, createLockManager } from './lock-manager.js'
export type { LockInfo, LockManagerSnapshot } from './manager-snapshot.js'
export { Lock } from './lock.js'
export { LockHandle } from './lock-handle.js'
export type { AcquireOptions, LockManagerOptions, LockOptions } from './options.js'
export {
  InvalidLockArgumentError,
  LockError,
  LockLostError,
  LockNotAcquiredError,
  LockNotOwnedError,
  LockNotReplicatedError,
  LockOrderError,
  StoreTimeoutError,
} from './errors.js'
export type { LockErrorCode, LockLostReason } from './errors.js'
export { configure, defaultLockManager } from './config.js'
export { Locked } from './decorator.js'
export type { LockedKey, LockedOptions, MethodLockDecorator } from './decorator.js'
export { createStore } from './create-store.js'
export { MemoryStore } from './stores/memory/memory-store.js'
export type { MemoryStoreOptions } from './stores/memory/memory-store.js'
export { OpenStore } from './stores/open/open-store.js'
export type {
  AcquireRequest,
  AcquireResult,
  Granted,
  Holder,
  LockListing,
  LockMode,
  LockStore,
  StealRequest,
  Unsubscribe,
  Waiter,
} from './store.js'
export { channelNames } from './events.js'
export type {
  AcquiredEvent,
  ExtendedEvent,
  FinalizedEvent,
  LockEventBase,
  LockOrderEvent,
  LostEvent,
  NotAcquiredEvent,
  ReleasedEvent,
  StoreErrorEvent,
} from './events.js'
export { startLockMetrics } from './metrics/lock-metrics.js'
export type { LockMetrics, LockMetricsOptions, MeterLike } from './metrics/lock-metrics.js'
export type { NamePatterns } from './metrics/name-patterns.js'
// The name an adapter locks a record by, for plain locks that must exclude the adapters' record locks.
export { recordLockName } from './records/record-name.js'
