import { InvalidLockArgumentError } from './errors.js'

/**
 * Argument checks shared by every public function. Messages have one form, naming the argument
 * and what came in: Expected `options.ttl` to be a finite number > 0, got -5.
 */

/** The largest delay a Node timer can hold (2^31 − 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647

/** Show a received value in a message: strings quoted, objects by kind, never a 10 kB dump. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value
    return `${JSON.stringify(shown)} (string)`
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'boolean' || typeof value === 'symbol') return String(value)
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`
  if (Array.isArray(value)) return `an array of length ${value.length}`
  const ctor = value.constructor as { name?: string } | undefined
  return ctor && ctor !== Object ? `an instance of ${ctor.name || 'an anonymous class'}` : 'an object'
}

/**
 * The error for a bad argument: Expected `argument` to be `expected`, got (the received value,
 * described). `code` is `LOCK_NOT_SUPPORTED` for a value that is valid, but not here (a mode the
 * database cannot hold).
 */
export function invalid(
  argument: string,
  expected: string,
  received: unknown,
  code?: InvalidLockArgumentError['code'],
): InvalidLockArgumentError {
  return invalidShape(argument, expected, describeValue(received), code)
}

/**
 * `invalid` for a received value best put in words ("an object with keys id, status", "an empty
 * array"): the one place the "Expected `x` to be …, got …" message is built.
 */
export function invalidShape(
  argument: string,
  expected: string,
  received: string,
  code?: InvalidLockArgumentError['code'],
): InvalidLockArgumentError {
  return new InvalidLockArgumentError(argument, `Expected \`${argument}\` to be ${expected}, got ${received}`, code)
}

export function notSupported(argument: string, message: string): InvalidLockArgumentError {
  return new InvalidLockArgumentError(argument, message, 'LOCK_NOT_SUPPORTED')
}

/** A lock name: any string, the empty one too, except those starting with `-` (reserved, as in Web Locks). */
export function checkName(name: unknown, argument = 'name'): string {
  if (typeof name !== 'string') throw invalid(argument, 'a string', name)
  if (name.startsWith('-')) {
    throw notSupported(argument, `Lock names starting with "-" are reserved (as in Web Locks), got ${describeValue(name)}`)
  }
  return name
}

interface DurationRule {
  /** Accept 0 (e.g. `timeout: 0` = don't wait). */
  zero?: boolean
  /** Upper bound in ms; defaults to what a timer can hold. */
  max?: number
}

/** A duration in milliseconds: finite, not negative, within what a timer can hold. */
export function checkDuration(value: unknown, argument: string, rule: DurationRule = {}): number {
  const max = rule.max ?? MAX_TIMER_MS
  const low = rule.zero ? '>= 0' : '> 0'
  const expected = `a finite number of milliseconds ${low} and <= ${max}`
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(argument, expected, value)
  if (value < 0 || (value === 0 && !rule.zero) || value > max) throw invalid(argument, expected, value)
  return value
}

export function checkBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') throw invalid(argument, 'a boolean', value)
  return value
}

export function checkFunction<F extends (...args: never[]) => unknown>(value: unknown, argument: string): F {
  if (typeof value !== 'function') throw invalid(argument, 'a function', value)
  return value as F
}

export function checkMode(value: unknown, argument: string): 'exclusive' | 'shared' {
  if (value !== 'exclusive' && value !== 'shared') throw invalid(argument, '"exclusive" or "shared"', value)
  return value
}

export function checkSignal(value: unknown, argument: string): AbortSignal {
  const looksLikeSignal =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  if (!looksLikeSignal) throw invalid(argument, 'an AbortSignal', value)
  return value as AbortSignal
}

/** An options bag: `undefined` or a plain object whose keys are all known (a typo like `timout` must not pass silently). */
export function checkOptions(value: unknown, argument: string, known: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(argument, 'an options object', value)
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      const list = [...known].sort().join(', ')
      throw new InvalidLockArgumentError(`${argument}.${key}`, `Unknown option \`${argument}.${key}\`; known options: ${list}`)
    }
  }
  return value as Record<string, unknown>
}
