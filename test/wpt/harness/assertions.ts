import type { WptTest } from './wpt-test.js'

/**
 * The `assert_*` and `promise_rejects_*` functions the vendored files call, with testharness.js's
 * semantics (same comparisons, same message shape: `assert_equals: description expected X but got Y`).
 * Only what the Web Locks files use is here; a file calling anything else fails with a
 * ReferenceError, which shows up as a failing test, never as a pass.
 */

export class AssertionError extends Error {
  override name = 'AssertionError'
}

/**
 * An implementation's documented stand-in for an error a WPT test expects: accepted in place of the
 * exact error only when `accepts` says so, and every use is recorded on the test (see
 * `applicability.ts` for the table and why each entry exists).
 */
export interface ErrorEquivalence {
  /** The JS constructor name (`TypeError`) or DOMException name (`NotSupportedError`) a test expects. */
  expected: string
  /** What the implementation throws instead, for the README. */
  instead: string
  accepts(error: unknown): boolean
}

/** DOMException legacy codes of the names the Web Locks files expect (WebIDL's table). */
const DOM_EXCEPTION_CODES: Record<string, number> = { NotSupportedError: 9, AbortError: 20, InvalidStateError: 11, NotFoundError: 8 }

export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`
  if (typeof value === 'string') return `"${value}"`
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value === 'boolean' || typeof value === 'undefined') return String(value)
  if (typeof value === 'symbol') return value.toString()
  if (typeof value === 'function') return `function "${value.name}"`
  if (value instanceof Error) return `object "${value.name}: ${value.message}"`
  try {
    return `object ${JSON.stringify(value)}`
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function check(condition: boolean, assertion: string, description: string | undefined, message: () => string): asserts condition {
  if (!condition) throw new AssertionError(`${assertion}: ${description ? `${description} ` : ''}${message()}`)
}

/** The properties the rejection checks read, or `undefined` when `error` is not an object. */
function fieldsOf(error: unknown): { ctor: unknown; name: unknown; code: unknown } | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const object = error as Record<string, unknown>
  return { ctor: object['constructor'], name: object['name'], code: object['code'] }
}

/** SameValue, as testharness compares: NaN equals NaN, +0 differs from -0. */
function sameValue(x: unknown, y: unknown): boolean {
  return Object.is(x, y)
}

export function assert_true(actual: unknown, description?: string): void {
  check(actual === true, 'assert_true', description, () => `expected true got ${formatValue(actual)}`)
}

export function assert_false(actual: unknown, description?: string): void {
  check(actual === false, 'assert_false', description, () => `expected false got ${formatValue(actual)}`)
}

export function assert_equals(actual: unknown, expected: unknown, description?: string): void {
  if (typeof actual !== typeof expected) {
    check(
      false,
      'assert_equals',
      description,
      () => `expected (${typeof expected}) ${formatValue(expected)} but got (${typeof actual}) ${formatValue(actual)}`,
    )
  }
  check(sameValue(actual, expected), 'assert_equals', description, () => `expected ${formatValue(expected)} but got ${formatValue(actual)}`)
}

export function assert_not_equals(actual: unknown, expected: unknown, description?: string): void {
  check(!sameValue(actual, expected), 'assert_not_equals', description, () => `got disallowed value ${formatValue(actual)}`)
}

export function assert_array_equals(actual: unknown, expected: unknown[], description?: string): void {
  const list = actual as unknown[]
  check(
    typeof actual === 'object' && actual !== null && 'length' in actual,
    'assert_array_equals',
    description,
    () => `value is ${formatValue(actual)}, expected array`,
  )
  check(
    list.length === expected.length,
    'assert_array_equals',
    description,
    () =>
      `lengths differ, expected array ${formatValue(expected)} length ${expected.length}, got ${formatValue(list)} length ${list.length}`,
  )
  for (let i = 0; i < list.length; i++) {
    const has = (array: unknown[]) => Object.prototype.hasOwnProperty.call(array, i)
    check(has(list) === has(expected), 'assert_array_equals', description, () => `property ${i} present in only one array`)
    check(
      sameValue(expected[i], list[i]),
      'assert_array_equals',
      description,
      () =>
        `expected property ${i} to be ${formatValue(expected[i])} but got ${formatValue(list[i])} (expected array ${formatValue(expected)} got ${formatValue(list)})`,
    )
  }
}

export function assert_own_property(object: object, name: string, description?: string): void {
  check(Object.prototype.hasOwnProperty.call(object, name), 'assert_own_property', description, () => `expected property "${name}" missing`)
}

/** An attribute as WebIDL defines it: inherited through the prototype chain, not an own property. */
export function assert_idl_attribute(object: unknown, name: string, description?: string): void {
  check(
    (typeof object === 'object' && object !== null) || typeof object === 'function',
    'assert_idl_attribute',
    description,
    () => 'provided value is not an object',
  )
  const target = object
  check(
    !Object.prototype.hasOwnProperty.call(target, name),
    'assert_idl_attribute',
    description,
    () => `property "${name}" found on object expected in prototype chain`,
  )
  check(name in target, 'assert_idl_attribute', description, () => `property "${name}" not found in prototype chain`)
}

export function assert_unreached(description?: string): never {
  throw new AssertionError(`assert_unreached: ${description ? `${description} ` : ''}Reached unreachable code`)
}

/** The rejection checks, bound to the equivalences the implementation under test declares. */
export function rejectionAssertions(equivalences: readonly ErrorEquivalence[]) {
  /** The equivalence for `expected` that accepts `error`, recorded on `test`; otherwise rethrows `failure`. */
  function viaEquivalence(test: WptTest, expected: string, error: unknown, failure: AssertionError): void {
    const equivalence = equivalences.find((entry) => entry.expected === expected && entry.accepts(error))
    if (!equivalence) throw failure
    test.recordEquivalence(equivalence)
  }

  /** Resolving is a failure of the test (testharness calls `unreached_func` as a step). */
  function rejection(
    test: WptTest,
    promise: Promise<unknown>,
    assertion: string,
    description: string | undefined,
  ): Promise<{ error: unknown } | undefined> {
    return Promise.resolve(promise).then(
      () => {
        test.fail(
          new AssertionError(`assert_unreached: Should have rejected: ${description ?? ''} Reached unreachable code (${assertion})`),
        )
        return undefined
      },
      (error: unknown) => ({ error }),
    )
  }

  /** `e.constructor === constructor && e.name === constructor.name`, as testharness checks. */
  async function promise_rejects_js(
    test: WptTest,
    constructor: ErrorConstructor,
    promise: Promise<unknown>,
    description?: string,
  ): Promise<void> {
    const outcome = await rejection(test, promise, 'promise_rejects_js', description)
    if (!outcome) return
    const { error } = outcome
    const fields = fieldsOf(error)
    const expected: unknown = constructor
    if (fields && fields.ctor === expected && fields.name === constructor.name) return
    const failure = new AssertionError(
      `promise_rejects_js: ${description ? `${description} ` : ''}threw ${formatValue(error)} expected instance of ${constructor.name}`,
    )
    viaEquivalence(test, constructor.name, error, failure)
  }

  /** A DOMException of this realm with the expected legacy code (and name, for new-style names). */
  async function promise_rejects_dom(test: WptTest, type: string, promise: Promise<unknown>, description?: string): Promise<void> {
    const code = DOM_EXCEPTION_CODES[type]
    if (code === undefined) throw new AssertionError(`Test bug: unrecognized DOMException name "${type}" (add it to DOM_EXCEPTION_CODES)`)
    const outcome = await rejection(test, promise, 'promise_rejects_dom', description)
    if (!outcome) return
    const { error } = outcome
    const fields = fieldsOf(error)
    // testharness checks the name only of "new style" exceptions (not all caps, not "DOMException").
    const name = fields?.name
    const checksName = typeof name === 'string' && name !== name.toUpperCase() && name !== 'DOMException'
    if (fields && fields.code === code && (!checksName || name === type) && fields.ctor === DOMException) return
    const failure = new AssertionError(
      `promise_rejects_dom: ${description ? `${description} ` : ''}threw ${formatValue(error)} (code ${formatValue(fields?.code)}) that is not a DOMException ${type}`,
    )
    viaEquivalence(test, type, error, failure)
  }

  async function promise_rejects_exactly(
    test: WptTest,
    exception: unknown,
    promise: Promise<unknown>,
    description?: string,
  ): Promise<void> {
    const outcome = await rejection(test, promise, 'promise_rejects_exactly', description)
    if (!outcome) return
    check(
      sameValue(outcome.error, exception),
      'promise_rejects_exactly',
      description,
      () => `threw ${formatValue(outcome.error)} but we expected it to throw ${formatValue(exception)}`,
    )
  }

  return { promise_rejects_js, promise_rejects_dom, promise_rejects_exactly }
}
