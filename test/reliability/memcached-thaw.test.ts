import { afterAll, expect, test, vi } from 'vitest'
import { createStore, type LockStore } from '@cachelock/core'
import { MEMCACHED_URL_ONE, uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { withServerFrozen } from './support/services.js'
import { nowMs, sleep } from './support/timing.js'

vi.setConfig({ testTimeout: 90_000 })

/**
 * After a frozen memcached resumes, every request the store sends is answered or fails: none is
 * lost. memjs gives up on a frozen server by half-closing the socket; those sockets all close once
 * the server resumes, and memjs's handler for that used to forget whichever socket was current,
 * so a request queued on a socket being opened then was never written and never timed out (the
 * CI hang of `server-frozen.test.ts`). Asked of the store itself: the manager's `storeTimeout`
 * would hide a lost request behind a timeout.
 */
const stores: LockStore[] = []
afterAll(() => Promise.all(stores.map(async (store) => store.close?.())))

test('memcached: no request is lost while the sockets given up on during a freeze close', async () => {
  const store = createStore(MEMCACHED_URL_ONE)
  stores.push(store)
  const key = `${uniquePrefix('thaw')}lock`
  await store.holders(key)
  // Requests every 150 ms while frozen: memjs gives up on a socket (and opens the next) each time
  // its 500 ms timeout passes, so several half-closed sockets wait for the server to resume.
  const failedWhileFrozen = await withServerFrozen({ kind: 'memcached', url: MEMCACHED_URL_ONE }, async () => {
    const calls: Promise<unknown>[] = []
    for (let sent = 0; sent < 20; sent++) {
      calls.push(
        store.holders(key).then(
          () => 'answered',
          () => 'failed',
        ),
      )
      await sleep(150)
    }
    return (await Promise.all(calls)).filter((outcome) => outcome === 'failed').length
  })
  // Resumed: the stale sockets close now, one after another, while new requests go out.
  const started = nowMs()
  const outcomes: Promise<'answered' | 'failed' | 'lost'>[] = []
  while (nowMs() - started < 1500) {
    outcomes.push(
      Promise.race([
        store.holders(key).then(
          () => 'answered' as const,
          () => 'failed' as const,
        ),
        // memjs's own bound for one request: two tries of 500 ms, 100 ms apart, plus a 1 s connect.
        sleep(10_000).then(() => 'lost' as const),
      ]),
    )
    await new Promise((resolve) => setImmediate(resolve))
  }
  const settled = await Promise.all(outcomes)
  const count = (outcome: string) => settled.filter((each) => each === outcome).length
  report('memcached-thaw', {
    failedWhileFrozen,
    afterThaw: settled.length,
    answered: count('answered'),
    failed: count('failed'),
    lost: count('lost'),
  })
  expect(failedWhileFrozen).toBe(20)
  expect(count('lost')).toBe(0)
  // And the client works afterwards.
  await expect(store.holders(key)).resolves.toEqual([])
})
