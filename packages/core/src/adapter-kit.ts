// @cachelock/core/adapter-kit: what an ORM or framework adapter needs beside the app's API.
// Record locks (the key a row is locked by, the scope that knows which records this async flow
// holds, lock-order checks), lock options taken beside the adapter's own, a decorator's machinery,
// the default manager's lookup, and the validation messages every cachelock package uses.
export { encodeRecordValue, modelLockName, recordLockName } from './records/record-name.js'
export { checkLockOrder, heldRecordLock, heldRecordLocks, recordLockClaimed } from './records/record-flow.js'
export type { HeldRecordLock } from './records/record-flow.js'
export { recordLockHandle, runInRecordLock } from './records/record-handle.js'
export type { RecordLockHandle } from './records/record-handle.js'
export { withRecordLocks } from './records/record-scope.js'
export { ScopedStorage } from './records/scoped-storage.js'
export type { RecordLockOptions } from './records/record-scope.js'
export { EarlyTransaction } from './records/early-start.js'
export type { EarlyStart } from './records/early-start.js'
export {
  transactionLock,
  transactionLockFailure,
  transactionLockQuery,
  transactionLockRequest,
  transactionLockStatement,
} from './records/transaction-lock.js'
export type { TransactionLock, TransactionLockRequest, TransactionLockStatement } from './records/transaction-lock.js'
export { lockOptionNames, lockOptionTable } from './lock-option-table.js'
export type { LockOptionName, LockOptionRule, LockOptionRules } from './lock-option-table.js'
export { splitLockOptions } from './split-lock-options.js'
export type { SplitLockOptions } from './split-lock-options.js'
export { lockDecorator } from './decorator.js'
export type { LockedCall } from './decorator.js'
export { resolveLockManager } from './config.js'
export {
  checkBoolean,
  checkDuration,
  checkOptions,
  describeValue,
  invalid as invalidArgument,
  invalidShape,
  MAX_TIMER_MS,
} from './validate.js'
