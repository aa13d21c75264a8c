import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../../..')

/** What a fresh process has loaded after each step of test/support/loaded-modules.mjs. */
function loadedAfter(...steps: string[]): Record<string, string[]> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'support/loaded-modules.mjs'), ...steps], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CACHELOCK_URL: '', NODE_ENV: 'test' },
  })
  const lines = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { step: string; modules: string[] })
  return Object.fromEntries(lines.map(({ step, modules }) => [step, modules]))
}

// createStore() checks URLs synchronously, so each store's URL grammar (url.ts, and the option
// ranges it checks, options.ts) is loaded with it: plain validation, no store code, no driver.
const storeModules = (modules: string[]) =>
  modules
    .map((module) => /\/src\/stores\/(redis|memcached|postgres|mysql|sqlite)\/[^/]*$/.exec(module)?.[0])
    .filter((module) => module !== undefined && !/\/(url|options)\.ts$/.test(module))
const drivers = (modules: string[]) =>
  modules.map((module) => /\/node_modules\/(ioredis|memjs|pg|mysql2|better-sqlite3)\//.exec(module)?.[1]).filter(Boolean)

test('an app on the memory store loads no other store and no driver; a Redis URL loads its store at first use', () => {
  const { memory, redis } = loadedAfter('memory', 'redis')
  expect(storeModules(memory!)).toEqual([])
  expect(drivers(memory!)).toEqual([])
  // The same detector sees the Redis store and ioredis once a Redis store is used.
  expect(storeModules(redis!)).toContain('/src/stores/redis/redis-store.ts')
  expect(drivers(redis!)).toContain('ioredis')
  expect(drivers(redis!)).not.toContain('memjs')
}, 60_000)
