export { LockManager, createLockManager } from './lock-manager.js'
export type { LockInfo, LockManagerSnapshot } from './lock-manager.js'
export { Lock } from './lock.js'
export { LockHandle } from './lock-handle.js'
export type { AcquireOptions, LockManagerOptions, LockOptions } from './options.js'
export { lockOptionNames, lockOptionTable } from './lock-option-table.js'
export type { LockOptionName, LockOptionRule } from './lock-option-table.js'
export { splitLockOptions } from './split-lock-options.js'
export type { SplitLockOptions } from './split-lock-options.js'
export {
  InvalidLockArgumentError,
  LockError,
  LockLostError,
  LockNotAcquiredError,
  LockNotOwnedError,
  LockNotReplicatedError,
  LockOrderError,
} from './errors.js'
export type { LockErrorCode, LockLostReason } from './errors.js'
export { configure, defaultLockManager, resolveLockManager } from './config.js'
export { Locked, lockDecorator } from './decorator.js'
export type { LockedCall, LockedKey, LockedOptions, MethodLockDecorator } from './decorator.js'
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
} from './store.js'
export { keyBytes, safeKey, storableKey } from './keys.js'
export type { SafeKeyRules } from './keys.js'
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
export { encodeRecordValue, modelLockName, recordLockName } from './records/record-name.js'
export { checkLockOrder, heldRecordLock, heldRecordLocks, recordLockClaimed } from './records/record-flow.js'
export type { HeldRecordLock } from './records/record-flow.js'
export { recordLockHandle, runInRecordLock } from './records/record-handle.js'
export type { RecordLockHandle } from './records/record-handle.js'
export { withRecordLocks } from './records/record-scope.js'
export type { RecordLockOptions } from './records/record-scope.js'
// For adapter and store authors: the validation messages every cachelock package uses.
export { checkOptions, describeValue, invalid as invalidArgument, invalidShape } from './validate.js'
