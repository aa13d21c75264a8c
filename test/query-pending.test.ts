import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { LockManager, type LockManagerSnapshot } from '@cachelock/core'
import { CONFORMANCE_STORES } from './wpt/stores.js'

/**
 * `query()` across managers, on every store that lists waiters, against its real server: two
 * managers on two connections (for the memory store, one shared instance), as two app servers.
 * A manager's own requests are exact; another manager's pending request is what the store saw.
 * (memcached lists no waiters: see the README's `query()` section.)
 */

/**
 * The managers' poll: a waiter that stops asking is forgotten after a few of these (about 1.1 s
 * with every store's default), long after a grant, so a grant that left its waiter listed shows.
 */
const SLEEP_MS = 500
const managers: LockManager[] = []
afterAll(() => Promise.all(managers.splice(0).map((manager) => manager.close())))

/** `query()` of `manager` until `check` accepts it; fails with the last snapshot after `timeoutMs`. */
async function eventually(manager: LockManager, check: (snapshot: LockManagerSnapshot) => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const snapshot = await manager.query()
    if (check(snapshot)) return snapshot
    if (Date.now() > deadline) expect.fail(`query() never matched; last: ${JSON.stringify(snapshot)}`)
    await delay(10)
  }
}

function pendingOf(snapshot: LockManagerSnapshot, name: string): string[] {
  return snapshot.pending
    .filter((entry) => entry.name === name)
    .map((entry) => `${entry.clientId}:${entry.mode}`)
    .sort()
}

/** Hold `name` in `manager` until the returned function is called. */
async function hold(manager: LockManager, name: string): Promise<() => void> {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  await new Promise<void>((granted) => {
    void manager.request(name, () => {
      granted()
      return released
    })
  })
  return release
}

for (const store of CONFORMANCE_STORES.filter((candidate) => candidate.name !== 'MemcachedStore')) {
  describe(`query() across two managers: ${store.name}`, () => {
    const client = store.backend()
    const prefix = `query-pending:${Math.random().toString(36).slice(2)}:`
    const open = () => {
      const manager = new LockManager({ store: client(), prefix, sleep: SLEEP_MS })
      managers.push(manager)
      return manager
    }
    const [a, b] = [open(), open()]

    it("lists the other manager's waiting request once, in its mode, and its own exactly once", async () => {
      const releaseA = await hold(a, 'x')
      const aborted = new AbortController()
      const waiting = b.request('x', { mode: 'shared', signal: aborted.signal }, () => undefined).catch((error: unknown) => error)
      const seen = await eventually(a, (snapshot) => pendingOf(snapshot, 'x').length > 0)
      expect(pendingOf(seen, 'x')).toEqual([`${b.clientId}:shared`])
      // B's own view: its request once (from its queue, not again from the store), A as holder.
      const own = await b.query()
      expect(pendingOf(own, 'x')).toEqual([`${b.clientId}:shared`])
      expect(own.held.filter((entry) => entry.name === 'x').map((entry) => entry.clientId)).toEqual([a.clientId])
      // An ifAvailable try from B waits for nothing and is listed nowhere.
      expect(await b.request('y', { ifAvailable: true }, (lock) => lock !== null)).toBe(true)
      const releaseY = await hold(a, 'y')
      expect(await b.request('y', { ifAvailable: true }, (lock) => lock)).toBeNull()
      expect(pendingOf(await a.query(), 'y')).toEqual([])
      releaseY()
      aborted.abort()
      await waiting
      releaseA()
    })

    it('forgets a request once it is granted, and once its manager stops asking', async () => {
      const releaseA = await hold(a, 'g')
      const granted = b.request('g', () => undefined)
      await eventually(a, (snapshot) => pendingOf(snapshot, 'g').length === 1)
      releaseA()
      await granted
      // A asks again, well within B's liveness: B's request was granted, so A sees only itself waiting.
      const releaseB = await hold(b, 'g')
      const again = a.request('g', () => undefined)
      const after = await eventually(a, (snapshot) => pendingOf(snapshot, 'g').length > 0)
      expect(pendingOf(after, 'g')).toEqual([`${a.clientId}:exclusive`])
      releaseB()
      await again

      // B stops asking (aborted): within a few of its polls A no longer lists it.
      const releaseAgain = await hold(a, 's')
      const aborted = new AbortController()
      const gaveUp = b.request('s', { signal: aborted.signal }, () => undefined).catch((error: unknown) => error)
      await eventually(a, (snapshot) => pendingOf(snapshot, 's').length === 1)
      aborted.abort()
      await gaveUp
      await eventually(a, (snapshot) => pendingOf(snapshot, 's').length === 0)
      releaseAgain()
    })
  })
}
