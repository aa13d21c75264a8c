import { afterAll, describe, expect, test, vi } from 'vitest'
import { LockLostError, createLockManager } from '../../src/index.js'
import { CLUSTER_URL, MEMCACHED_URL, REDIS_URL, cachelock, uniquePrefix } from './helpers.js'

// Each test starts the CLI as a process (or several): seconds apiece on a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 })

/**
 * `cachelock release NAME`: asks on stderr, reads the answer from stdin, and force-releases only on
 * yes. Checked from other clients: a second manager can take the lock afterwards, and the holder's
 * signal aborts at its next renewal.
 */
describe.each([
  ['Redis', REDIS_URL],
  ['Redis Cluster', CLUSTER_URL],
  ['memcached', MEMCACHED_URL],
])('cachelock release on %s', (_label, url) => {
  const prefix = uniquePrefix('release')
  // ttl 1.5 s: the holder renews every 500 ms, and so hears of a force release within one renewal.
  const holder = createLockManager({ store: url, prefix, ttl: 1500, sleep: 25 })
  const other = createLockManager({ store: url, prefix })
  afterAll(() => Promise.all([holder.close(), other.close()]))

  test('answered "y" over stdin: released; another client takes it, and the holder is told', async () => {
    const handle = await holder.acquire('order:42')
    const run = await cachelock(['release', 'order:42', '--url', url, '--prefix', prefix], { input: 'y\n' })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(
      new RegExp(`^Force-release order:42 \\(exclusive, held by ${holder.clientId}, ttl left .+\\)\\? .+ \\[y/N\\] $`),
    )
    expect(run.stdout).toBe('Released order:42.\n')
    const taken = await other.tryAcquire('order:42')
    expect(taken).not.toBeNull()
    await taken!.release()
    // Its next renewal finds the lock gone (it may have already, while the CLI ran).
    if (!handle.signal.aborted) await new Promise((resolve) => handle.signal.addEventListener('abort', resolve, { once: true }))
    expect(handle.signal.reason).toBeInstanceOf(LockLostError)
  })

  test.each([
    ['"n"', 'n\n'],
    ['nothing (stdin closed)', ''],
    ['anything but yes', 'sure?\n'],
  ])('answered %s: nothing released, exit 3', async (_answer, input) => {
    const handle = await holder.acquire('order:43')
    const run = await cachelock(['release', 'order:43', '--url', url, '--prefix', prefix], { input })
    expect(run.code, run.stderr).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/\[y\/N\] \n?cachelock: not released\n$/)
    expect(await other.tryAcquire('order:43')).toBeNull()
    expect(handle.signal.aborted).toBe(false)
    await handle.release()
  })

  test('--yes releases without asking; --json says what happened', async () => {
    // Kept referenced: a dropped handle is released when collected (release on finalize), which a
    // GC during the CLI's run would do between its look and its release.
    const handle = await holder.acquire('order:44')
    const run = await cachelock(['release', 'order:44', '--url', url, '--prefix', prefix, '--yes', '--json'], { input: 'keep-open' })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ name: 'order:44', key: `${prefix}order:44`, held: true, released: true })
    expect(await other.isLocked('order:44')).toBe(false)
    await handle.release().catch(() => undefined)
  })

  test('a lock nobody holds: nothing to ask, nothing to release', async () => {
    const run = await cachelock(['release', 'nobody', '--url', url, '--prefix', prefix])
    expect(run).toEqual({
      code: 0,
      stdout: `Nothing to release: "nobody" is not held (looked under prefix "${prefix}"; pass --prefix if the app uses another).\n`,
      stderr: '',
    })
  })
})
