import type { AcquireOptions, LockManagerOptions } from './options.js'
import type { LockMode, LockStore } from './store.js'
import { storeFromSource } from './store-source.js'
import { checkBoolean, checkDuration, checkMode, checkOptions, checkSignal, invalid, notSupported } from './validate.js'

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

export const DEFAULT_TTL = 30_000
export const DEFAULT_SLEEP = 100
export const DEFAULT_PREFIX = 'lock:'

/** The keys of `LockOptions`: what adapters pass through to core (anything else is refused). */
export const lockOptionNames: ReadonlySet<string> = new Set(['mode', 'ifAvailable', 'steal', 'signal', 'timeout', 'ttl', 'autoExtend'])
const requestOptionNames = lockOptionNames
const acquireOptionNames = new Set([...requestOptionNames, 'releaseOnFinalize'])
export const managerOptionNames = new Set(['store', 'prefix', 'sleep', 'ttl', 'autoExtend', 'timeout', 'releaseOnFinalize'])
const storeMethods = ['acquire', 'release', 'extend', 'steal', 'forceRelease', 'holders'] as const

/** Validate a manager's options (throws `InvalidLockArgumentError`) and fill in the defaults. */
export function resolveManagerOptions(options: LockManagerOptions | undefined, argument: string): ManagerDefaults {
  const given = checkOptions(options, argument, managerOptionNames) as LockManagerOptions
  const prefix = given.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string') throw invalid(`${argument}.prefix`, 'a string', prefix)
  const resolved = {
    prefix,
    sleep: given.sleep === undefined ? DEFAULT_SLEEP : checkDuration(given.sleep, `${argument}.sleep`),
    ttl: given.ttl === undefined ? DEFAULT_TTL : checkDuration(given.ttl, `${argument}.ttl`),
    autoExtend: given.autoExtend === undefined ? true : checkBoolean(given.autoExtend, `${argument}.autoExtend`),
    timeout: given.timeout === undefined ? undefined : checkDuration(given.timeout, `${argument}.timeout`, { zero: true }),
    releaseOnFinalize:
      given.releaseOnFinalize === undefined ? true : checkBoolean(given.releaseOnFinalize, `${argument}.releaseOnFinalize`),
  }
  // The store last: a store URL opens a connection, which bad options elsewhere must not leave open.
  // A URL or no store at all: the store-creation module knows which store that is.
  const store = given.store === undefined || typeof given.store === 'string' ? storeFromSource(given.store) : given.store
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
  const given = checkOptions(options, argument, handle ? acquireOptionNames : requestOptionNames) as AcquireOptions
  const resolved: ResolvedRequest = {
    mode: given.mode === undefined ? 'exclusive' : checkMode(given.mode, `${argument}.mode`),
    ifAvailable: given.ifAvailable === undefined ? false : checkBoolean(given.ifAvailable, `${argument}.ifAvailable`),
    steal: given.steal === undefined ? false : checkBoolean(given.steal, `${argument}.steal`),
    signal: given.signal === undefined ? undefined : checkSignal(given.signal, `${argument}.signal`),
    timeout: given.timeout === undefined ? defaults.timeout : checkDuration(given.timeout, `${argument}.timeout`, { zero: true }),
    ttl: given.ttl === undefined ? defaults.ttl : checkDuration(given.ttl, `${argument}.ttl`),
    autoExtend: given.autoExtend === undefined ? defaults.autoExtend : checkBoolean(given.autoExtend, `${argument}.autoExtend`),
    releaseOnFinalize:
      given.releaseOnFinalize === undefined
        ? defaults.releaseOnFinalize
        : checkBoolean(given.releaseOnFinalize, `${argument}.releaseOnFinalize`),
  }
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
