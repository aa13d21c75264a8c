import { acquireOptionNames, lockOptionNames } from './lock-option-table.js'
import type { AcquireOptions } from './options.js'
import { resolveRequestOptions, type ManagerDefaults } from './resolve-options.js'
import { checkOptions } from './validate.js'

/** Stand-in manager defaults: only the given options' checks matter when splitting. */
const checkDefaults: ManagerDefaults = {
  store: undefined as never,
  prefix: '',
  sleep: 1,
  ttl: 1,
  autoExtend: true,
  timeout: undefined,
  releaseOnFinalize: true,
}

/** An adapter call's options, split: core's lock options, and the adapter's own. */
export interface SplitLockOptions<Own extends string> {
  /** Every core lock option the call was given, checked: hand them to `request()`/`acquire()`. */
  lockOptions: AcquireOptions
  /** The adapter's own options as given: the adapter checks their values. */
  own: Partial<Record<Own, unknown>>
}

/**
 * For adapters that take core's lock options beside their own (`withLock(id, fn, { ttl, missing })`):
 * refuse unknown keys (a misspelt `timout` must not pass silently; the message lists every option
 * the call takes), check core's options now as `request()` would (a bad `ttl` is named before
 * anything is taken), and split the two. Core's options come from its one table, so an option
 * core adds reaches every adapter that calls this without an edit.
 *
 * @param own the adapter's option names for this call
 * @param handle the call returns a handle (`lock()`), so it also takes the handle's options (`releaseOnFinalize`)
 */
export function splitLockOptions<Own extends string>(
  options: unknown,
  argument: string,
  own: readonly Own[],
  { handle = false }: { handle?: boolean } = {},
): SplitLockOptions<Own> {
  const core: ReadonlySet<string> = handle ? acquireOptionNames : lockOptionNames
  const given = checkOptions(options, argument, allowedNames(core, own))
  const lockOptions: Record<string, unknown> = {}
  const ownOptions: Record<string, unknown> = {}
  let anyLockOption = false
  for (const [key, value] of Object.entries(given)) {
    if (core.has(key)) {
      lockOptions[key] = value
      anyLockOption = true
    } else ownOptions[key] = value
  }
  if (anyLockOption) resolveRequestOptions(lockOptions, argument, checkDefaults, handle)
  return { lockOptions, own: ownOptions as Partial<Record<Own, unknown>> }
}

/**
 * Core's and the adapter's option names together, made once per list of the adapter's: the lists
 * are a handful of constants, found by identity, or by their names when a call site builds its
 * array per call.
 */
const allowedByList = new WeakMap<readonly string[], { core: ReadonlySet<string>; names: ReadonlySet<string> }>()
const allowedByNames = new Map<string, ReadonlySet<string>>()

function allowedNames(core: ReadonlySet<string>, own: readonly string[]): ReadonlySet<string> {
  const known = allowedByList.get(own)
  if (known?.core === core) return known.names
  const key = `${core === acquireOptionNames ? 'handle' : 'lock'}:${own.join(',')}`
  let names = allowedByNames.get(key)
  if (names === undefined) allowedByNames.set(key, (names = new Set([...core, ...own])))
  allowedByList.set(own, { core, names })
  return names
}
