import { InvalidLockArgumentError } from '@cachelock/core'
import type { ErrorEquivalence } from './harness/assertions.js'

/**
 * The judgements the conformance run rests on, in one place (the README lists the same).
 *
 * A test is "not applicable" only for a reason no lock manager in Node can meet. It still runs,
 * and must fail exactly as the entry says (so an entry cannot hide a regression or outlive its
 * reason); it is reported as not applicable, never as a pass.
 */
export interface NotApplicable {
  file: string
  test: string
  reason: string
  /** The start of the failure message the test must end with here. */
  failsWith: string
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
}

export const KNOWN_GAPS: readonly KnownGap[] = [
  {
    file: 'query.https.any.js',
    test: 'query() can observe a deadlock',
    reason:
      "Its worker is a second `LockManager`: `query()` shows other managers' holds (the stores keep them) but not their " +
      'pending requests (the stores keep no list of other processes waiting), so the pending side of the deadlock is not seen.',
    failsWith: 'assert_equals: expected 1 but got 0',
  },
]

export function knownGap(file: string, test: string): KnownGap | undefined {
  return KNOWN_GAPS.find((entry) => entry.file === file && entry.test === test)
}

export function notApplicable(file: string, test: string): NotApplicable | undefined {
  return NOT_APPLICABLE.find((entry) => entry.file === file && entry.test === test)
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
