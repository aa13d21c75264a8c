import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, LockError, LockLostError, LockNotOwnedError, type LockHandle, type LockManager } from '@cachelock/core'
import { MEMCACHED_URL_ONE, REDIS_URL, uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { withServerDown, type Server } from './support/services.js'
import { nowMs, SLACK_MS, sleep, timed } from './support/timing.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 120_000 })

/**
 * The store's server goes away while locks are held and requested, then comes back (empty: the
 * test servers keep no data across a restart, like a cache that lost its memory).
 *
 * While it is down: every operation rejects with `LockError` (`LOCK_STORE_ERROR`, the client's
 * error as `cause`) within a bounded time, never hangs; a held lock is signalled lost once
 * renewal has failed for a whole ttl. After the restart: everything works again, and fencing
 * tokens still grow although the server forgot its counters.
 */
const TTL = 3000
const targets: { name: string; server: Server; failWithinMs: number }[] = [
  // The manager's storeTimeout (2 s) bounds every call; ioredis with maxRetriesPerRequest 1 fails faster.
  { name: 'redis', server: { kind: 'redis', url: REDIS_URL }, failWithinMs: 2000 + SLACK_MS },
  // memcachedStoreFromUrl: 500 ms per request, one retry, "fails within about two seconds".
  { name: 'memcached', server: { kind: 'memcached', url: MEMCACHED_URL_ONE }, failWithinMs: 2000 + SLACK_MS },
]

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeAll(() => void process.on('unhandledRejection', onUnhandled))
afterAll(() => void process.off('unhandledRejection', onUnhandled))

/** Resolves when `handle`'s signal aborts, with when and why. */
function lostSignal(handle: LockHandle): Promise<{ at: number; error: LockLostError }> {
  return new Promise((resolve) => {
    handle.signal.addEventListener('abort', () => resolve({ at: nowMs(), error: handle.signal.reason as LockLostError }), { once: true })
  })
}

/** Retry `attempt` until it succeeds; resolves how long that took. */
async function untilWorks(attempt: () => Promise<unknown>, timeoutMs: number): Promise<number> {
  const started = nowMs()
  for (;;) {
    try {
      await attempt()
      return nowMs() - started
    } catch (error) {
      if (nowMs() - started > timeoutMs) throw error
      await sleep(50)
    }
  }
}

describe.each(targets)('$name stopped and restarted', ({ name, server, failWithinMs }) => {
  const managers: LockManager[] = []
  /** A manager with its own connection; managers given the same prefix contend for the same locks. */
  const manager = (prefix: string) => {
    const locks = createLockManager({ store: server.url, prefix, ttl: TTL })
    managers.push(locks)
    return locks
  }
  afterAll(async () => {
    await Promise.all(managers.map((locks) => locks.close().catch(() => undefined)))
  })

  test('while down: every operation fails with LockError in bounded time and the held lock is signalled lost', async () => {
    const prefix = uniquePrefix(`restart-${name}`)
    const locks = manager(prefix)
    const held = await locks.acquire('held')
    const releasedWhileDown = await locks.acquire('released-while-down', { ttl: 60_000 })
    const lost = lostSignal(held)

    await withServerDown(server, async ({ stop, start }) => {
      await stop()
      const stoppedAt = nowMs()
      const operations: Record<string, () => Promise<unknown>> = {
        'acquire()': () => locks.acquire('other'),
        'tryAcquire()': () => locks.tryAcquire('other-try'),
        'request()': () => locks.request('other-request', () => expect.unreachable('granted while the store is down')),
        'withLock()': () => locks.withLock('other-with', () => expect.unreachable('granted while the store is down')),
        'isLocked()': () => locks.isLocked('held'),
        'forceRelease()': () => locks.forceRelease('nobody'),
        'query()': () => locks.query(),
        'handle.extend()': () => held.extend(),
        'handle.release()': () => releasedWhileDown.release(),
      }
      const outcomes = await Promise.all(Object.values(operations).map((operation) => timed(operation())))
      const slowest = Math.max(...outcomes.map((outcome) => outcome.ms))
      for (const [index, label] of Object.keys(operations).entries()) {
        const outcome = outcomes[index]!
        expect(outcome.ok, `${label} should fail while ${name} is down`).toBe(false)
        const error = (outcome as { error: unknown }).error
        expect(error, label).toBeInstanceOf(LockError)
        expect((error as LockError).code, label).toBe('LOCK_STORE_ERROR')
        expect((error as LockError).cause, label).toBeDefined()
        expect(outcome.ms, label).toBeLessThan(failWithinMs)
      }

      // The lock held when the server went away: renewals fail, and once a whole ttl has passed
      // since the store last confirmed it, its signal aborts.
      const { at, error } = await lost
      const lostAfterMs = at - stoppedAt
      expect(error).toBeInstanceOf(LockLostError)
      expect(['store-unreachable', 'expired']).toContain(error.reason)
      if (error.reason === 'store-unreachable') expect(error.cause).toBeDefined()
      expect(lostAfterMs).toBeLessThan(TTL + failWithinMs)
      await expect(held.release()).rejects.toBeInstanceOf(LockNotOwnedError)

      await start()
      const recoveredMs = await untilWorks(() => locks.tryAcquire('after-restart').then((handle) => handle?.release()), 30_000)
      report(
        `server-down/${name}`,
        {
          ttl: TTL,
          slowestFailureMs: slowest,
          failures: outcomes.map((outcome) => Math.round(outcome.ms)),
          lostAfterMs,
          reason: error.reason,
          recoveredMs,
        },
        `${Object.keys(operations).length} operations failed with LOCK_STORE_ERROR within ${slowest.toFixed(0)} ms; ` +
          `held lock (ttl ${TTL} ms) signalled lost ${lostAfterMs.toFixed(0)} ms after the stop ("${error.reason}"); ` +
          `working again ${recoveredMs.toFixed(0)} ms after the restart`,
      )
    })

    // Everything works again, with exclusion between two managers.
    const other = manager(prefix)
    const again = await locks.acquire('held')
    expect(await other.tryAcquire('held')).toBeNull()
    await again.release()
    await expect(other.withLock('held', () => 'ok')).resolves.toBe('ok')
    expect(unhandled).toEqual([])
  })

  test('a restart shorter than the ttl loses the lock: the holder hears at its next renewal, fencing tokens still grow', async () => {
    const prefix = uniquePrefix(`short-restart-${name}`)
    const holder = manager(prefix)
    const held = await holder.acquire('job')
    const lost = lostSignal(held)
    let restartedAt = 0
    await withServerDown(server, async ({ stop, start }) => {
      await stop()
      await start()
      restartedAt = nowMs()
    })
    // The restarted server is empty: another client gets the lock as soon as it can connect.
    const taken = await manager(prefix).acquire('job', { timeout: 30_000 })
    const takenAt = nowMs()
    const { at, error } = await lost
    const bothBelievedMs = Math.max(0, at - takenAt)
    report(
      `short-restart/${name}`,
      {
        ttl: TTL,
        takenAfterRestartMs: takenAt - restartedAt,
        holderSignalledAfterRestartMs: at - restartedAt,
        bothBelievedMs,
        reason: error.reason,
      },
      `lock taken by another client ${(takenAt - restartedAt).toFixed(0)} ms after the restart; the old holder was signalled ` +
        `${(at - restartedAt).toFixed(0)} ms after the restart ("${error.reason}"): both believed they held it for ${bothBelievedMs.toFixed(0)} ms; ` +
        `fencing ${held.fencingToken} → ${taken.fencingToken}`,
    )
    expect(error).toBeInstanceOf(LockLostError)
    expect(at - restartedAt).toBeLessThan(TTL + SLACK_MS)
    // What lets storage reject the old holder's writes in that window.
    expect(taken.fencingToken).toBeGreaterThan(held.fencingToken)
    await taken.release()
    expect(unhandled).toEqual([])
  })
})
