import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, LockError, LockLostError, LockNotOwnedError, type LockHandle, type LockManager } from '@cachelock/core'
import { MYSQL_URL, PG_URL, uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { withServerDown, type Server } from './support/services.js'
import { nowMs, SLACK_MS, sleep, timed } from './support/timing.js'

// Servers restart slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 180_000 })

/**
 * The database goes away while locks are held and requested, then comes back. Unlike the cache
 * servers of `server-restart.test.ts`, a database keeps its data: a lock taken before the restart
 * is still in the table afterwards, with the expiry it had.
 *
 * While it is down: every operation rejects with `LockError` (`LOCK_STORE_ERROR`, the driver's error
 * as `cause`) within a bounded time (the store's `queryTimeoutMs`, 10 s, is the backstop; a refused
 * connection fails at once), never hangs; a held lock is signalled lost once renewal has failed for
 * a whole ttl. After the restart: everything works again.
 */
const targets: { name: string; server: Server; failWithinMs: number }[] = [
  { name: 'postgres', server: { kind: 'postgres', url: PG_URL }, failWithinMs: 10_000 + SLACK_MS },
  { name: 'mariadb', server: { kind: 'mariadb', url: MYSQL_URL }, failWithinMs: 10_000 + SLACK_MS },
]

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeAll(() => void process.on('unhandledRejection', onUnhandled))
afterAll(() => void process.off('unhandledRejection', onUnhandled))

function lostSignal(handle: LockHandle): Promise<{ at: number; error: LockLostError }> {
  return new Promise((resolve) => {
    handle.signal.addEventListener('abort', () => resolve({ at: nowMs(), error: handle.signal.reason as LockLostError }), { once: true })
  })
}

async function untilWorks(attempt: () => Promise<unknown>, timeoutMs: number): Promise<number> {
  const started = nowMs()
  for (;;) {
    try {
      await attempt()
      return nowMs() - started
    } catch (error) {
      if (nowMs() - started > timeoutMs) throw error
      await sleep(100)
    }
  }
}

describe.each(targets)('$name stopped and restarted', ({ name, server, failWithinMs }) => {
  const managers: LockManager[] = []
  const manager = (prefix: string, ttl: number) => {
    const locks = createLockManager({ store: server.url, prefix, ttl })
    managers.push(locks)
    return locks
  }
  afterAll(async () => {
    await Promise.all(managers.map((locks) => locks.close().catch(() => undefined)))
  })

  test('while down: every operation fails with LockError in bounded time and the held lock is signalled lost', async () => {
    const ttl = 3000
    const locks = manager(uniquePrefix(`db-restart-${name}`), ttl)
    const held = await locks.acquire('held')
    const releasedWhileDown = await locks.acquire('released-while-down', { ttl: 60_000 })
    const lost = lostSignal(held)

    await withServerDown(server, async ({ stop, start }) => {
      await stop()
      const stoppedAt = nowMs()
      const operations: Record<string, () => Promise<unknown>> = {
        'acquire()': () => locks.acquire('other'),
        'tryAcquire()': () => locks.tryAcquire('other-try'),
        'withLock()': () => locks.withLock('other-with', () => expect.unreachable('granted while the database is down')),
        'isLocked()': () => locks.isLocked('held'),
        'forceRelease()': () => locks.forceRelease('nobody'),
        'handle.extend()': () => held.extend(),
        'handle.release()': () => releasedWhileDown.release(),
      }
      const outcomes = await Promise.all(Object.values(operations).map((operation) => timed(operation())))
      for (const [index, label] of Object.keys(operations).entries()) {
        const outcome = outcomes[index]!
        expect(outcome.ok, `${label} should fail while ${name} is down`).toBe(false)
        const error = (outcome as { error: unknown }).error
        expect(error, label).toBeInstanceOf(LockError)
        expect((error as LockError).code, label).toBe('LOCK_STORE_ERROR')
        expect((error as LockError).cause, label).toBeDefined()
        expect(outcome.ms, label).toBeLessThan(failWithinMs)
      }
      const { at, error } = await lost
      expect(error).toBeInstanceOf(LockLostError)
      expect(['store-unreachable', 'expired']).toContain(error.reason)
      expect(at - stoppedAt).toBeLessThan(ttl + failWithinMs)
      await expect(held.release()).rejects.toBeInstanceOf(LockNotOwnedError)

      await start()
      const recoveredMs = await untilWorks(() => locks.tryAcquire('after-restart').then((handle) => handle?.release()), 60_000)
      report(
        `database-down/${name}`,
        {
          ttl,
          failures: outcomes.map((outcome) => Math.round(outcome.ms)),
          lostAfterMs: at - stoppedAt,
          reason: error.reason,
          recoveredMs,
        },
        `${Object.keys(operations).length} operations failed with LOCK_STORE_ERROR within ${Math.max(...outcomes.map((o) => o.ms)).toFixed(0)} ms; ` +
          `held lock (ttl ${ttl} ms) signalled lost ${(at - stoppedAt).toFixed(0)} ms after the stop ("${error.reason}"); ` +
          `working again ${recoveredMs.toFixed(0)} ms after the restart`,
      )
    })
    const again = await locks.acquire('held', { timeout: 30_000 })
    expect(await manager(uniquePrefix('unrelated'), ttl).isLocked('held')).toBe(false)
    await again.release()
    expect(unhandled).toEqual([])
  })

  test('a restart shorter than the ttl keeps the lock: the table survives, nobody else gets it, the holder renews on', async () => {
    const ttl = 20_000
    const prefix = uniquePrefix(`db-short-restart-${name}`)
    const holder = manager(prefix, ttl)
    const other = manager(prefix, ttl)
    const held = await holder.acquire('job')
    await withServerDown(server, async ({ stop, start }) => {
      await stop()
      await start()
    })
    const restartedAt = nowMs()
    // The database kept the row: another client is refused as soon as it can connect again.
    await untilWorks(async () => expect(await other.tryAcquire('job')).toBeNull(), 60_000)
    await untilWorks(() => held.extend(), 60_000)
    expect(held.signal.aborted).toBe(false)
    await held.release()
    const next = await other.acquire('job', { timeout: 10_000 })
    report(
      `database-short-restart/${name}`,
      { ttl, reconnectedMs: nowMs() - restartedAt },
      `lock kept across the restart; the holder renewed and released it; next token ${held.fencingToken} → ${next.fencingToken}`,
    )
    expect(next.fencingToken).toBeGreaterThan(held.fencingToken)
    await next.release()
    expect(unhandled).toEqual([])
  })
})
