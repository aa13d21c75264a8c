import { afterAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, LockError, LockLostError, type LockManager } from '@cachelock/core'
import { MEMCACHED_URL_ONE, REDIS_URL, uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { withServerFrozen, type Server } from './support/services.js'
import { nowMs, SLACK_MS, timed } from './support/timing.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 90_000 })

/**
 * A server that stops answering without closing its connections (SIGSTOP): the hard case for
 * "no hang", since no error ever arrives by itself. Operations must still fail with `LockError`
 * within the manager's `storeTimeout` (2 s by default; memcached's URL client gives up sooner: a
 * 500 ms request timeout, one retry), and a held lock must be signalled lost once a ttl has
 * passed since the store last confirmed it, even though its renewal call never returns.
 */
const TTL = 3000
const targets: { name: string; server: Server; failWithinMs: number }[] = [
  // The manager's storeTimeout (RedisStore's own commandTimeoutMs, 10 s, is only a backstop).
  { name: 'redis', server: { kind: 'redis', url: REDIS_URL }, failWithinMs: 2000 + SLACK_MS },
  { name: 'memcached', server: { kind: 'memcached', url: MEMCACHED_URL_ONE }, failWithinMs: 2000 + SLACK_MS },
]

describe.each(targets)('$name frozen (SIGSTOP)', ({ name, server, failWithinMs }) => {
  const managers: LockManager[] = []
  afterAll(() => Promise.all(managers.map((locks) => locks.close().catch(() => undefined))))

  test('operations fail in bounded time, the held lock is signalled lost within its ttl, all works after SIGCONT', async () => {
    const locks = createLockManager({ store: server.url, prefix: uniquePrefix(`frozen-${name}`), ttl: TTL })
    managers.push(locks)
    const held = await locks.acquire('held')
    const lost = new Promise<{ at: number; error: LockLostError }>((resolve) => {
      held.signal.addEventListener('abort', () => resolve({ at: nowMs(), error: held.signal.reason as LockLostError }))
    })
    await withServerFrozen(server, async () => {
      const frozenAt = nowMs()
      const outcomes = await Promise.all([timed(locks.acquire('other')), timed(locks.isLocked('held')), timed(locks.forceRelease('x'))])
      for (const outcome of outcomes) {
        expect(outcome.ok).toBe(false)
        const error = (outcome as { error: LockError }).error
        expect(error).toBeInstanceOf(LockError)
        expect(error.code).toBe('LOCK_STORE_ERROR')
        expect(error.cause).toBeDefined()
        expect(outcome.ms).toBeLessThan(failWithinMs)
      }
      const { at, error } = await lost
      const lostAfterMs = at - frozenAt
      report(
        `server-frozen/${name}`,
        { ttl: TTL, failures: outcomes.map((outcome) => Math.round(outcome.ms)), lostAfterMs, reason: error.reason },
        `operations failed with LOCK_STORE_ERROR after ${outcomes.map((outcome) => outcome.ms.toFixed(0)).join(', ')} ms; ` +
          `held lock (ttl ${TTL} ms) signalled lost ${lostAfterMs.toFixed(0)} ms after the freeze ("${error.reason}")`,
      )
      expect(error).toBeInstanceOf(LockLostError)
      expect(error.reason).toBe('store-unreachable')
      expect(lostAfterMs).toBeLessThan(TTL + SLACK_MS)
    })
    // Thawed: the same manager works again (the frozen lock's ttl may still run in the server).
    await expect(locks.withLock('after-thaw', () => 'ok', { timeout: 15_000 })).resolves.toBe('ok')
  })
})
