import { acquireOptionNames, lockOptionNames, lockOptionTable, managerDefaultNames, type LockOptionName } from './lock-option-table.js'
import type { AcquireOptions, LockManagerOptions } from './options.js'
import type { LockMode, LockStore } from './store.js'
import { InvalidLockArgumentError } from './errors.js'
import { storeFromSource } from './store-source.js'
import { checkDuration, checkOptions, invalid, notSupported } from './validate.js'

/** A request's options after validation, with the manager's defaults filled in. */
export interface ResolvedRequest {
  mode: LockMode
  ifAvailable: boolean
  steal: boolean
  signal: AbortSignal | undefined
  /** ms; `undefined` waits until granted. */
  timeout: number | undefined
  ttl: number
  autoExtend: boolean
  releaseOnFinalize: boolean
  /** Called once if the request has to wait for the lock (adapter-kit's early start: see manager-internals.ts); never set by callers. */
  onWait?: () => void
}

export interface ManagerDefaults {
  store: LockStore
  prefix: string
  sleep: number
  ttl: number
  autoExtend: boolean
  timeout: number | undefined
  releaseOnFinalize: boolean
}

/** A manager's options after validation: the request defaults, and what only the manager uses. */
export interface ResolvedManager extends ManagerDefaults {
  storeTimeout: number
}

export const DEFAULT_SLEEP = 100
export const DEFAULT_STORE_TIMEOUT = 2000
export const DEFAULT_PREFIX = 'lock:'

export const managerOptionNames = new Set<string>(['store', 'prefix', 'sleep', 'storeTimeout', ...managerDefaultNames])
const acquireNames = [...acquireOptionNames]
const storeMethods = ['acquire', 'release', 'extend', 'steal', 'forceRelease', 'holders'] as const

/** Validate a manager's options (throws `InvalidLockArgumentError`) and fill in the defaults. */
export function resolveManagerOptions(options: LockManagerOptions | undefined, argument: string): ResolvedManager {
  const given = checkOptions(options, argument, managerOptionNames) as LockManagerOptions
  const prefix = given.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string') throw invalid(`${argument}.prefix`, 'a string', prefix)
  const resolved = {
    prefix,
    sleep: given.sleep === undefined ? DEFAULT_SLEEP : checkDuration(given.sleep, `${argument}.sleep`),
    storeTimeout: given.storeTimeout === undefined ? DEFAULT_STORE_TIMEOUT : checkDuration(given.storeTimeout, `${argument}.storeTimeout`),
    ...(Object.fromEntries(
      managerDefaultNames.map((name) => [name, optionValue(given, name, argument, lockOptionTable[name].default)]),
    ) as Pick<ManagerDefaults, 'ttl' | 'autoExtend' | 'timeout' | 'releaseOnFinalize'>),
  }
  // The store last: a store URL opens a connection, which bad options elsewhere must not leave open.
  // A URL or no store at all: the store-creation module knows which store that is.
  const store = given.store === undefined || typeof given.store === 'string' ? storeFromOption(given.store, argument) : given.store
  if (typeof store !== 'object' || store === null || storeMethods.some((method) => typeof store[method] !== 'function')) {
    throw invalid(`${argument}.store`, `a LockStore (an object with ${storeMethods.join(', ')})`, store)
  }
  return { store, ...resolved }
}

/**
 * Validate one request's options against Web Locks' rules and fill in the manager's defaults.
 * Throws `InvalidLockArgumentError`: `LOCK_INVALID_ARGUMENT` for a wrong type or value,
 * `LOCK_NOT_SUPPORTED` for the combinations Web Locks refuses.
 */
export function resolveRequestOptions(
  options: AcquireOptions | undefined,
  argument: string,
  defaults: ManagerDefaults,
  handle: boolean,
): ResolvedRequest {
  // Most calls pass no options: their answer depends on the manager's defaults alone, so it is
  // worked out once per manager (frozen: nothing may change one request's options for the next).
  if (options === undefined) {
    let resolved = withoutOptions.get(defaults)
    if (resolved === undefined) {
      resolved = Object.freeze(resolveGiven({}, argument, defaults))
      withoutOptions.set(defaults, resolved)
    }
    return resolved
  }
  const given = checkOptions(options, argument, handle ? acquireOptionNames : lockOptionNames) as AcquireOptions
  return resolveGiven(given, argument, defaults)
}

/** What a call with no options resolves to, per manager (its defaults object). */
const withoutOptions = new WeakMap<ManagerDefaults, ResolvedRequest>()

function resolveGiven(given: AcquireOptions, argument: string, defaults: ManagerDefaults): ResolvedRequest {
  const resolved = {} as Record<LockOptionName, unknown>
  for (const name of acquireNames) {
    const rule = lockOptionTable[name]
    resolved[name] = optionValue(given, name, argument, rule.managerDefault ? defaults[name as keyof ManagerDefaults] : rule.default)
  }
  return checkCombinations(resolved as unknown as ResolvedRequest, argument)
}

/** The combinations Web Locks refuses. */
function checkCombinations(resolved: ResolvedRequest, argument: string): ResolvedRequest {
  if (resolved.steal && resolved.ifAvailable) {
    throw notSupported(`${argument}.steal`, '`steal` and `ifAvailable` cannot be combined (Web Locks NotSupportedError)')
  }
  if (resolved.steal && resolved.mode !== 'exclusive') {
    throw notSupported(`${argument}.steal`, '`steal` requires mode "exclusive" (Web Locks NotSupportedError)')
  }
  if (resolved.signal && (resolved.steal || resolved.ifAvailable)) {
    throw notSupported(
      `${argument}.signal`,
      '`signal` cannot be combined with `steal` or `ifAvailable`: neither waits (Web Locks NotSupportedError)',
    )
  }
  return resolved
}

/** A given option checked by its rule in the table, or `fallback` when it is not given. */
function optionValue(given: object, name: LockOptionName, argument: string, fallback: unknown): unknown {
  const value = (given as Record<string, unknown>)[name]
  return value === undefined ? fallback : lockOptionTable[name].check(value, `${argument}.${name}`)
}

/** The store a URL names. A URL the store refuses is blamed on `options.store`, where the caller wrote it (the store's parser calls it `url`). */
function storeFromOption(store: string | undefined, argument: string): LockStore {
  try {
    return storeFromSource(store)
  } catch (error) {
    if (!(error instanceof InvalidLockArgumentError) || error.argument !== 'url') throw error
    const named = `${argument}.store`
    throw new InvalidLockArgumentError(named, error.message.replace('`url`', `\`${named}\``), error.code)
  }
}
