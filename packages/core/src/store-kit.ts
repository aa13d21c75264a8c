// @cachelock/core/store-kit: what a store author needs beside the seam. A store implements
// `LockStore` (its types are here too), maps keys it cannot hold with these helpers, checks its own
// options with the same messages as the rest of cachelock, matches `list()` patterns with `globMatcher`,
// and proves itself with the contract suite (`lockStoreContract` from `@cachelock/core/testing`).
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
export { keyBytes, keyFromBytes, safeKey, storableKey } from './keys.js'
export type { SafeKeyRules } from './keys.js'
export { escapeGlob, globLiteral, globMatcher } from './glob.js'
export {
  checkBoolean,
  checkDuration,
  checkOptions,
  describeValue,
  invalid as invalidArgument,
  invalidShape,
  MAX_TIMER_MS,
} from './validate.js'
