import { Redis } from 'ioredis'
import { afterAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, LockError, type LockManager, type LockManagerOptions } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { MEMCACHED_URL_ONE, MYSQL_URL, PG_URL, REDIS_URL, uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { withServerDown, withServerFrozen, type Server } from './support/services.js'
import { nowMs, SLACK_MS, sleep } from './support/timing.js'

vi.setConfig({ testTimeout: 300_000 })

/**
 * A store outage under a burst (issue #13 §2): the store's server is stopped (or frozen), and 40 callers
 * want the same record at once, as 40 HTTP requests for one order would. Each must fail within
 * its own deadline, however many wait on that name: without a `timeout`, within the manager's
 * `storeTimeout`; with one, within that timeout; both with the store's error (`LOCK_STORE_ERROR`, the
 * client's error as `cause`), so the app can tell "store down" from "busy". A caller with a
 * timeout keeps trying until it runs out, so one that asks during the outage gets the lock as soon
 * as the server is back (and the client has reconnected).
 */
const CALLERS = 40
const STORE_TIMEOUT = 2000
const CALLER_TIMEOUT = 2000
/** The timeout of a caller that asks during the outage and must get the lock once the server is back. */
const RECOVERY_TIMEOUT = 30_000
/** Past this a caller counts as hung (the figure the issue reported), and the test stops waiting for it. */
const HUNG_AFTER_MS = 45_000

interface Target {
  name: string
  /** Stopped (connections refused) or frozen with SIGSTOP (connections open, nothing answers). */
  outage: 'stopped' | 'frozen'
  server: Server
  /** The manager's options: the store, made the way an app on this target makes it. */
  options: () => LockManagerOptions
}

const targets: Target[] = [
  // createStore('redis://…'): ioredis with maxRetriesPerRequest 1.
  { name: 'redis (URL client)', outage: 'stopped', server: { kind: 'redis', url: REDIS_URL }, options: () => ({ store: REDIS_URL }) },
  // The app's own client with ioredis's defaults (maxRetriesPerRequest 20), as in the issue.
  {
    name: 'redis (app client, ioredis defaults)',
    outage: 'stopped',
    server: { kind: 'redis', url: REDIS_URL },
    options: () => ({
      store: new RedisStore(
        new Redis(REDIS_URL).on('error', () => undefined),
        { closeClient: true },
      ),
    }),
  },
  {
    name: 'memcached (URL client)',
    outage: 'stopped',
    server: { kind: 'memcached', url: MEMCACHED_URL_ONE },
    options: () => ({ store: MEMCACHED_URL_ONE }),
  },
  { name: 'postgres (URL client)', outage: 'stopped', server: { kind: 'postgres', url: PG_URL }, options: () => ({ store: PG_URL }) },
  { name: 'mariadb (URL client)', outage: 'stopped', server: { kind: 'mariadb', url: MYSQL_URL }, options: () => ({ store: MYSQL_URL }) },
  // Nothing ever answers, so no error arrives by itself: only storeTimeout ends each attempt (the
  // database stores' own queryTimeoutMs, 10 s, is only a backstop).
  { name: 'redis (URL client)', outage: 'frozen', server: { kind: 'redis', url: REDIS_URL }, options: () => ({ store: REDIS_URL }) },
  { name: 'postgres (URL client)', outage: 'frozen', server: { kind: 'postgres', url: PG_URL }, options: () => ({ store: PG_URL }) },
  { name: 'mariadb (URL client)', outage: 'frozen', server: { kind: 'mariadb', url: MYSQL_URL }, options: () => ({ store: MYSQL_URL }) },
]

interface Outcome {
  ms: number
  state: 'granted' | 'rejected' | 'hung'
  error?: unknown
}

/** Start `CALLERS` calls at once; each one's outcome and how long it took (capped at HUNG_AFTER_MS). */
async function burst(call: () => Promise<unknown>): Promise<Outcome[]> {
  const started = nowMs()
  const one = async (): Promise<Outcome> => {
    const settled = call().then(
      (): Outcome => ({ ms: nowMs() - started, state: 'granted' }),
      (error: unknown): Outcome => ({ ms: nowMs() - started, state: 'rejected', error }),
    )
    const hung = sleep(HUNG_AFTER_MS).then((): Outcome => ({ ms: HUNG_AFTER_MS, state: 'hung' }))
    return Promise.race([settled, hung])
  }
  return Promise.all(Array.from({ length: CALLERS }, one))
}

function figures(outcomes: Outcome[]) {
  const failed = outcomes.filter((outcome) => outcome.state === 'rejected')
  const times = failed.map((outcome) => outcome.ms)
  const kinds = new Map<string, number>()
  for (const { error } of failed) {
    const e = error as LockError
    const kind = `${e.name}/${e.code}${e.cause === undefined ? '' : ' with cause'}`
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
  }
  return {
    failed: failed.length,
    hung: outcomes.filter((outcome) => outcome.state === 'hung').length,
    granted: outcomes.filter((outcome) => outcome.state === 'granted').length,
    fastestMs: times.length ? Math.round(Math.min(...times)) : undefined,
    slowestMs: times.length ? Math.round(Math.max(...times)) : undefined,
    spreadMs: times.length ? Math.round(Math.max(...times) - Math.min(...times)) : undefined,
    errors: Object.fromEntries(kinds),
  }
}

function expectStoreErrors(outcomes: Outcome[], within: number): void {
  for (const outcome of outcomes) {
    expect(outcome.state).toBe('rejected')
    expect(outcome.error).toBeInstanceOf(LockError)
    expect((outcome.error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect((outcome.error as LockError).cause).toBeDefined()
    expect(outcome.ms).toBeLessThan(within)
  }
}

/** Run `body` with the server stopped (then started again) or frozen (then thawed). */
async function during<T>(outage: Target['outage'], server: Server, body: () => Promise<T>): Promise<T> {
  if (outage === 'frozen') return withServerFrozen(server, body)
  return withServerDown(server, async ({ stop, start }) => {
    await stop()
    const result = await body()
    await start()
    return result
  })
}

describe.each(targets)('$name $outage under a burst of 40 callers on one name', ({ name, outage, server, options }) => {
  const managers: LockManager[] = []
  afterAll(() => Promise.all(managers.map((locks) => locks.close().catch(() => undefined))))

  test('every caller fails within its own deadline with the store error; the name works as soon as the server is back', async () => {
    const locks = createLockManager({ ...options(), prefix: uniquePrefix('outage'), storeTimeout: STORE_TIMEOUT })
    managers.push(locks)
    await locks.withLock('order:42', () => undefined)
    const work = () => expect.unreachable('granted while the store is down')

    const { untimed, timed, rider } = await during(outage, server, async () => {
      const untimed = await burst(() => locks.withLock('order:42', work))
      const timed = await burst(() => locks.withLock('order:42', work, { timeout: CALLER_TIMEOUT }))
      // Asked while the server is still down: a caller with a timeout rides the outage out.
      const rider = locks.withLock('order:42', () => true, { timeout: RECOVERY_TIMEOUT }).catch(() => false)
      return { untimed, timed, rider }
    })
    const backAt = nowMs()
    const recoveredMs = (await rider) ? nowMs() - backAt : undefined

    const withoutTimeout = figures(untimed)
    const withTimeout = figures(timed)
    report(
      `outage-burst/${name} ${outage}`,
      { callers: CALLERS, storeTimeout: STORE_TIMEOUT, withoutTimeout, withTimeout, recoveredMs: recoveredMs && Math.round(recoveredMs) },
      `${CALLERS} callers without timeout: ${withoutTimeout.failed} failed in ${withoutTimeout.fastestMs}–${withoutTimeout.slowestMs} ms ` +
        `(spread ${withoutTimeout.spreadMs} ms), ${withoutTimeout.hung} still waiting after ${HUNG_AFTER_MS} ms, ${JSON.stringify(withoutTimeout.errors)}; ` +
        `${CALLERS} with timeout ${CALLER_TIMEOUT}: ${withTimeout.failed} failed in ${withTimeout.fastestMs}–${withTimeout.slowestMs} ms ` +
        `(spread ${withTimeout.spreadMs} ms), ${withTimeout.hung} still waiting, ${JSON.stringify(withTimeout.errors)}; ` +
        (recoveredMs === undefined
          ? `the caller asking during the outage still had no lock ${RECOVERY_TIMEOUT} ms after the server came back`
          : `the caller asking during the outage got the lock ${recoveredMs.toFixed(0)} ms after the server came back`),
    )
    expect(recoveredMs, 'the caller that asked during the outage got the lock after the restart').toBeDefined()
    expectStoreErrors(untimed, STORE_TIMEOUT + SLACK_MS)
    expectStoreErrors(timed, CALLER_TIMEOUT + SLACK_MS)
    // A caller with a timeout keeps trying until it runs out (a store that comes back in time serves it).
    for (const outcome of timed) expect(outcome.ms).toBeGreaterThanOrEqual(CALLER_TIMEOUT - 1)
  })
})
