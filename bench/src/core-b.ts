import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { compiledEntry } from './paths.js'

/**
 * A second copy of core to measure against the first, interleaved in the same rounds: set
 * `CACHELOCK_BENCH_CORE_B=/path/to/copy/src/index.ts` and the cases that support it add a
 * "cachelock (B)" contender and its ratio to cachelock. How a proposed change to core is measured
 * before it is made. compile.ts bundles the copy as an entry point of its own.
 */
// A copy from before the stores became leaf entries exports its stores from the main entry too.
export type CoreModule = typeof import('@cachelock/core') &
  Pick<typeof import('@cachelock/core/redis'), 'RedisStore'> &
  Pick<typeof import('@cachelock/core/memcached'), 'MemcachedStore'>

export const CORE_B_ENV = 'CACHELOCK_BENCH_CORE_B'

export async function loadCoreB(): Promise<CoreModule | undefined> {
  if (!process.env[CORE_B_ENV]) return undefined
  const entry = compiledEntry('core-b')
  if (!existsSync(entry)) throw new Error(`${CORE_B_ENV} is set but core B was not compiled`)
  return (await import(pathToFileURL(entry).href)) as CoreModule
}
