import type { AcquireOptions } from './options.js'
import { checkBoolean, checkDuration, checkMode, checkSignal } from './validate.js'

/** The default `ttl`, in ms. */
export const DEFAULT_TTL = 30_000

/** How one lock option is checked and defaulted. Its doc is on `LockOptions` / `AcquireOptions`. */
export interface LockOptionRule<T> {
  /** Validate a given value; throws `InvalidLockArgumentError` naming `argument`. */
  check(value: unknown, argument: string): T
  /** The value when neither the call nor the manager sets it (`undefined`: unset, e.g. no timeout). */
  default: T | undefined
  /** A manager option too (`createLockManager({ ttl })`), the default of every request. */
  managerDefault: boolean
  /** Taken only by calls that return a handle (`acquire()`, the adapters' `lock()`). */
  handleOnly: boolean
  /** A valid value, for documentation and for the adapters' conformance test. */
  example: T
}

/** The lock options and their rules. */
export type LockOptionRules = { [K in keyof AcquireOptions]-?: LockOptionRule<NonNullable<AcquireOptions[K]>> }

/**
 * The table of lock options: every option of `request()` / `acquire()` (and so of `withLock`,
 * `@Locked`, the Prisma and TypeORM adapters and `@WithLock`), with its check, default and bounds,
 * once. Typed against `AcquireOptions`: an option added there must be added here, and every
 * adapter that takes lock options through `splitLockOptions` takes it without an edit.
 */
export const lockOptionTable: LockOptionRules = {
  mode: { check: checkMode, default: 'exclusive', managerDefault: false, handleOnly: false, example: 'shared' },
  ifAvailable: { check: checkBoolean, default: false, managerDefault: false, handleOnly: false, example: true },
  steal: { check: checkBoolean, default: false, managerDefault: false, handleOnly: false, example: true },
  signal: { check: checkSignal, default: undefined, managerDefault: false, handleOnly: false, example: new AbortController().signal },
  timeout: {
    check: (value, argument) => checkDuration(value, argument, { zero: true }),
    default: undefined,
    managerDefault: true,
    handleOnly: false,
    example: 5000,
  },
  ttl: {
    check: (value, argument) => checkDuration(value, argument),
    default: DEFAULT_TTL,
    managerDefault: true,
    handleOnly: false,
    example: 10_000,
  },
  autoExtend: { check: checkBoolean, default: true, managerDefault: true, handleOnly: false, example: false },
  releaseOnFinalize: { check: checkBoolean, default: true, managerDefault: true, handleOnly: true, example: false },
}

export type LockOptionName = keyof typeof lockOptionTable

const names = Object.keys(lockOptionTable) as LockOptionName[]

/** The options of one lock request (`request()`, `withLock()`): what adapters pass through to core. */
export const lockOptionNames: ReadonlySet<LockOptionName> = new Set(names.filter((name) => !lockOptionTable[name].handleOnly))

/** The options of a call that returns a handle (`acquire()`): a request's, plus the handle's own. */
export const acquireOptionNames: ReadonlySet<LockOptionName> = new Set(names)

/** The lock options a manager takes as defaults for every request. */
export const managerDefaultNames: readonly LockOptionName[] = names.filter((name) => lockOptionTable[name].managerDefault)
