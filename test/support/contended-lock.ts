/**
 * A script for an installed app: two managers (on a server, two connections) contend for one name
 * on the store at `process.env.STORE_URL` (the memory store when unset): the second sees the
 * first's lock, gets it only after the release, and the script prints what it saw.
 * `contendedLockOutcome` is what a working store prints.
 */
export function contendedLockScript(moduleSystem: 'esm' | 'cjs'): string {
  const body = `
      const url = process.env.STORE_URL
      const a = createLockManager({ store: url ?? new MemoryStore(), prefix: 'packaging:' })
      const b = url ? createLockManager({ store: url, prefix: 'packaging:' }) : createLockManager({ store: a.store, prefix: 'packaging:' })
      const name = 'order:' + process.pid
      const seen = await a.withLock(name, async (lock) => [lock.fencingToken > 0, await b.isLocked(name), await b.tryAcquire(name)])
      const after = await b.tryAcquire(name)
      seen.push(after !== null, await a.isLocked(name))
      await after.release()
      await Promise.all([a.close(), b.close()])
      console.log(JSON.stringify(seen))`
  return moduleSystem === 'esm'
    ? `import { createLockManager, MemoryStore } from '@cachelock/core'\n${body}`
    : `const { createLockManager, MemoryStore } = require('@cachelock/core')\n;(async () => {${body}})()`
}

export const contendedLockOutcome = [true, true, null, true, true]

/** A test server's URL from `scripts/services.sh env`; the packaging test runs against real servers. */
export function serverUrl(variable: string): string {
  const url = process.env[variable]
  if (!url) throw new Error(`${variable} is not set: run the test with \`eval "$(bash scripts/services.sh env)"\` (pnpm test does)`)
  return url
}
