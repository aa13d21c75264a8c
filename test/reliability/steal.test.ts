import { afterEach, describe, expect, test, vi } from 'vitest'
import { STORES, uniquePrefix } from './support/env.js'
import { clientOf, observe } from './support/inspect.js'
import { stopAll, Worker } from './support/processes.js'
import { report } from './support/report.js'
import { SLACK_MS, sleep } from './support/timing.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 90_000 })

/**
 * `steal: true` from another process: the store drops the victim's hold at once, but the victim's
 * process only learns of it when it next talks to the store, at its next renewal (every ttl/3).
 * Until then it believes it holds the lock; that window is what the fencing token is for.
 */
const TTL = 1500
const workers = new Set<Worker>()
afterEach(() => stopAll(workers))

describe.each(STORES)('steal across processes on $name', (store) => {
  test('the victim is signalled at its next renewal; the thief holds the lock alone', async () => {
    const prefix = uniquePrefix('steal')
    const observer = observe(store.url, prefix)
    const spawn = () => {
      const worker = new Worker('holder-worker.ts', { url: store.url, prefix, sleep: store.sleep })
      workers.add(worker)
      return worker
    }
    try {
      const victim = spawn()
      const thief = spawn()
      await Promise.all([victim.next('ready'), thief.next('ready')])
      victim.send({ cmd: 'acquire', name: 'job', ttl: TTL })
      const first = await victim.next('acquired')
      await sleep(Math.random() * TTL) // land anywhere in the victim's renewal cycle
      thief.send({ cmd: 'acquire', name: 'job', ttl: TTL, steal: true })
      const stolen = await thief.next('acquired')
      const lost = await victim.next('lost', TTL / 3 + SLACK_MS + 5000)
      const signalledAfterMs = Number(lost['at']) - Number(stolen['at'])
      const error = lost['error'] as { name: string; code: string; reason: string }
      report(
        `steal/${store.name}`,
        { ttl: TTL, signalledAfterMs, reason: error.reason },
        `ttl ${TTL} ms (renewal every ${TTL / 3} ms): victim signalled ${signalledAfterMs.toFixed(0)} ms after the steal, reason "${error.reason}"`,
      )
      expect(error).toMatchObject({ name: 'LockLostError', code: 'LOCK_LOST' })
      // Across processes the store cannot say why the owner changed: the victim sees its renewal refused.
      expect(['stolen', 'expired']).toContain(error.reason)
      expect(signalledAfterMs).toBeLessThan(TTL / 3 + SLACK_MS)
      expect(Number(stolen['fencingToken'])).toBeGreaterThan(Number(first['fencingToken']))

      // The victim's release finds nothing of its own and changes nothing.
      victim.send({ cmd: 'release', name: 'job' })
      expect((await victim.next('release-failed'))['error']).toMatchObject({ name: 'LockNotOwnedError' })
      // Two more renewal periods: the thief keeps renewing and nobody else appears.
      await sleep((2 * TTL) / 3)
      expect((await observer.owners('job')).map(clientOf)).toEqual([stolen['clientId']])
      expect(thief.all('lost')).toEqual([])
      expect([...victim.all('unhandled'), ...thief.all('unhandled')]).toEqual([])
    } finally {
      await stopAll(workers)
      await observer.locks.forceRelease('job').catch(() => undefined)
      await observer.close()
    }
  })
})
