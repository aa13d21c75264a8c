export { lockExtension } from './lock-extension.js'
export { DEFAULT_TRANSACTION_TIMEOUT } from './options.js'
export type { LockExtensionOptions, ModelLockOptions, TransactionOptions, WithLockOptions } from './options.js'
export type {
  LockExtension,
  LockModelMethods,
  LockTransactionClient,
  LockedRecord,
  RecordId,
  RecordTarget,
  UniqueWhere,
  WithLockContext,
  WithLocksContext,
} from './types.js'
