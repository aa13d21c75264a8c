import { afterEach, describe, expect, test, vi } from 'vitest'
import { STORES, uniquePrefix } from './support/env.js'
import { clientOf, observe } from './support/inspect.js'
import { stopAll, Worker } from './support/processes.js'
import { report } from './support/report.js'
import { nowMs, SLACK_MS, sleep } from './support/timing.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 90_000 })

/**
 * A holder killed with SIGKILL runs no finally, no release, no finalizer: only the ttl frees its
 * lock. The next process must get it within ttl (+ the store's rounding, + one poll), not later
 * (a lock that never frees) and not before the kill (no exclusion).
 */
const TTL = 2000
const workers = new Set<Worker>()
afterEach(() => stopAll(workers))

describe.each(STORES)('holder killed on $name', (store) => {
  test(`the next process gets the lock within ttl (${TTL} ms) + sleep after a SIGKILL`, async () => {
    const prefix = uniquePrefix('kill')
    const observer = observe(store.url, prefix)
    const spawnHolder = () => {
      const worker = new Worker('holder-worker.ts', { url: store.url, prefix, sleep: store.sleep })
      workers.add(worker)
      return worker
    }
    try {
      const victim = spawnHolder()
      const next = spawnHolder()
      await Promise.all([victim.next('ready'), next.next('ready')])
      victim.send({ cmd: 'acquire', name: 'job', ttl: TTL })
      const held = await victim.next('acquired')
      next.send({ cmd: 'acquire', name: 'job', ttl: TTL })
      await next.next('requested')
      // Let the victim renew a few times, so the kill lands at a random point of its renewal cycle,
      // and let the waiter be refused at least once.
      await sleep(TTL / 2 + Math.random() * TTL)
      expect(next.all('acquired')).toEqual([])
      const killedAt = nowMs()
      await victim.kill('SIGKILL')
      const granted = await next.next('acquired', TTL + store.expiryGraceMs + store.sleep + 30_000)
      const recoveryMs = Number(granted['at']) - killedAt
      const bound = TTL + store.expiryGraceMs + store.sleep + SLACK_MS
      report(
        `holder-killed/${store.name}`,
        { ttl: TTL, sleep: store.sleep, recoveryMs, bound },
        `ttl ${TTL} ms: next holder after ${recoveryMs.toFixed(0)} ms (bound ${bound} ms)`,
      )
      expect(recoveryMs).toBeGreaterThan(0)
      expect(recoveryMs).toBeLessThan(bound)
      expect(Number(granted['fencingToken'])).toBeGreaterThan(Number(held['fencingToken']))
      expect((await observer.owners('job')).map(clientOf)).toEqual([granted['clientId']])
      expect([...victim.all('unhandled'), ...next.all('unhandled')]).toEqual([])
    } finally {
      await stopAll(workers)
      await observer.locks.forceRelease('job').catch(() => undefined)
      await observer.close()
    }
  })
})
