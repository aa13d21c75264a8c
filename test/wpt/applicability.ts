import { InvalidLockArgumentError } from '@cachelock/core'
import type { ErrorEquivalence } from './harness/assertions.js'

/**
 * The judgements the conformance run rests on, in one place (the README lists the same).
 *
 * A test is "not applicable" only for a reason no lock manager in Node can meet, or (with
 * `stores`) that the named stores' backend cannot meet without giving up what they promise. It
 * still runs, and must fail exactly as the entry says (so an entry cannot hide a regression or
 * outlive its reason); it is reported as not applicable, never as a pass.
 */
export interface NotApplicable {
  file: string
  test: string
  reason: string
  /** The start of the failure message the test must end with here. */
  failsWith: string
  /** The stores (their names in `CONFORMANCE_STORES`) it applies to; every store when absent. */
  stores?: readonly string[]
}

export const NOT_APPLICABLE: readonly NotApplicable[] = [
  {
    file: 'secure-context.https.any.js',
    test: 'API presence in secure contexts',
    reason:
      'Checks `self.isSecureContext` and that `LockManager` and `Lock` are exposed on the global object: secure contexts and ' +
      'WebIDL exposure are browser concepts. A library is imported, not installed on a global, and Node has no secure contexts.',
    failsWith: 'assert_true: expected true got undefined',
  },
  {
    file: 'query.https.any.js',
    test: 'query() can observe a deadlock',
    stores: ['MemcachedStore'],
    reason:
      'Its worker is a second `LockManager`, whose pending request `query()` can only learn from the store. memcached has no ' +
      'atomic step that both refuses an `add` and records a waiter: listing waiters would take a second, separate write after ' +
      'every refused attempt and after every grant that follows one, so `MemcachedStore` leaves out `LockStore.waiters` and ' +
      "`query()` shows no other manager's pending requests on it.",
    failsWith: 'assert_equals: expected 1 but got 0',
  },
]

/**
 * A test cachelock could pass but does not yet, on every store: known and published (the README
 * counts it as failing). It still runs and must fail exactly so; once it passes, the suite fails
 * until the entry is removed, so the list never outlives the gap.
 */
export interface KnownGap {
  file: string
  test: string
  reason: string
  failsWith: string
  /** The stores (their names in `CONFORMANCE_STORES`) it applies to; every store when absent. */
  stores?: readonly string[]
}

export const KNOWN_GAPS: readonly KnownGap[] = []

/** The entry for `test` of `file` on the store named `store`, if any. */
function entryFor<T extends { file: string; test: string; stores?: readonly string[] }>(
  entries: readonly T[],
  file: string,
  test: string,
  store: string,
): T | undefined {
  return entries.find((entry) => entry.file === file && entry.test === test && (entry.stores?.includes(store) ?? true))
}

export function knownGap(file: string, test: string, store: string): KnownGap | undefined {
  return entryFor(KNOWN_GAPS, file, test, store)
}

export function notApplicable(file: string, test: string, store: string): NotApplicable | undefined {
  return entryFor(NOT_APPLICABLE, file, test, store)
}

/**
 * Where cachelock deliberately throws its own error class in place of the one a test expects.
 * Accepted only in exactly these forms, and every test that passes through one is marked so in
 * the results.
 */
export const CACHELOCK_ERROR_EQUIVALENCES: readonly (ErrorEquivalence & { reason: string })[] = [
  {
    expected: 'TypeError',
    instead: 'InvalidLockArgumentError (code LOCK_INVALID_ARGUMENT)',
    accepts: (error) => error instanceof InvalidLockArgumentError && error.code === 'LOCK_INVALID_ARGUMENT',
    reason:
      'cachelock reports every bad argument as `InvalidLockArgumentError`, a subclass of `TypeError` with a stable `code` and a ' +
      'message naming the argument; testharness wants `e.constructor === TypeError` exactly.',
  },
  {
    expected: 'NotSupportedError',
    instead: 'InvalidLockArgumentError (code LOCK_NOT_SUPPORTED)',
    accepts: (error) => error instanceof InvalidLockArgumentError && error.code === 'LOCK_NOT_SUPPORTED',
    reason:
      'Names starting with `-` and refused option combinations (`steal` with `ifAvailable`, …) are bad input to cachelock, so ' +
      'they get the same class, with `code: LOCK_NOT_SUPPORTED` where the spec throws a `NotSupportedError` DOMException.',
  },
]
