import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, type LockManager } from '@cachelock/core'
import { REDIS_URL, uniquePrefix } from './support/env.js'
import { ScratchApp } from './support/scratch-app.js'
import { sleep } from './support/timing.js'

// Building core takes ~10 s alone, much longer on a loaded machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 })

/**
 * A plain script, run with `node` against the built package as an app runs it, must not exit
 * while it still waits for a lock (issue #13 §4): the timers that settle what the caller awaits
 * (the `timeout` deadline, the poll between attempts) keep the process alive as `setTimeout`
 * does. And it must still exit when all that is left is housekeeping (the renewal of a lock it
 * holds), which stays `unref()`'d.
 *
 * Each case runs as CommonJS (`main()` with no catch: Node exits 1 on the unhandled rejection)
 * and as ESM (top-level await: exit 1 on a rejection, 13 on a promise that never settles).
 */
/** Far above anything here needs; only a script that would never exit by itself reaches it. */
const KILL_AFTER_MS = 30_000

let app: ScratchApp
beforeAll(() => {
  app = ScratchApp.build()
})
afterAll(() => app?.remove())

type Flavour = 'cjs' | 'mjs'
const flavours: Flavour[] = ['cjs', 'mjs']

/** `body` (which may `await`) as a script of either module system, with `print(event, fields)` for JSON lines. */
function script(flavour: Flavour, body: string): string {
  if (flavour === 'mjs')
    return `import { createLockManager, MemoryStore } from '@cachelock/core'\nconst print = (event, fields) => console.log(JSON.stringify({ event, ...fields }))\n${body}\n`
  return `const { createLockManager, MemoryStore } = require('@cachelock/core')\nconst print = (event, fields) => console.log(JSON.stringify({ event, ...fields }))\nasync function main() {\n${body}\n}\nmain()\n`
}

describe.each(flavours)('a %s script', (flavour) => {
  test('waiting with a timeout behind a lock it holds itself rejects with LockNotAcquiredError and exits non-zero', async () => {
    const run = await app.run(
      `timeout.${flavour}`,
      script(
        flavour,
        `const locks = createLockManager()
         await locks.acquire('job')
         const started = performance.now()
         try {
           await locks.withLock('job', () => print('ran'), { timeout: 200 })
         } catch (error) {
           print('rejected', { name: error.name, code: error.code, message: error.message, ms: performance.now() - started })
           throw error
         }`,
      ),
      { killAfterMs: KILL_AFTER_MS },
    )
    expect(run.killed, run.stderr).toBe(false)
    expect(run.lines.map((line) => line['event'])).toEqual(['rejected'])
    expect(run.lines[0]).toMatchObject({ name: 'LockNotAcquiredError', code: 'LOCK_NOT_ACQUIRED' })
    expect(run.lines[0]!['message']).toContain('200 ms')
    // Not before its deadline: the rejection came from the timeout, not from the process ending.
    expect(run.lines[0]!['ms']).toBeGreaterThanOrEqual(199)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('LockNotAcquiredError')
  })

  test('waiting without a timeout for a lock whose holder stopped renewing, it polls until the lock expires and gets it', async () => {
    // Expiry publishes no wake-up: only the poll between attempts notices it, so the poll is the
    // one timer standing between this script and an early exit.
    const run = await app.run(
      `expiry.${flavour}`,
      script(
        flavour,
        `const store = new MemoryStore()
         const gone = createLockManager({ store })
         const waiter = createLockManager({ store })
         const stale = await gone.acquire('job', { ttl: 300, autoExtend: false })
         const token = await waiter.withLock('job', (lock) => lock.fencingToken)
         print('granted', { after: stale.fencingToken, token })`,
      ),
      { killAfterMs: KILL_AFTER_MS },
    )
    expect(run.killed, run.stderr).toBe(false)
    expect(run.lines).toEqual([{ event: 'granted', after: 1, token: 2 }])
    expect(run.code, run.stderr).toBe(0)
  })

  test('holding a lock with auto-extend and nothing else to do, it exits (renewal is housekeeping)', async () => {
    const run = await app.run(
      `holder.${flavour}`,
      script(
        flavour,
        // releaseOnFinalize off: renewal then never stops on its own (a collected handle stops it).
        `const locks = createLockManager({ ttl: 600, autoExtend: true })
         const handle = await locks.acquire('job', { releaseOnFinalize: false })
         print('holding', { held: handle.held })`,
      ),
      { killAfterMs: KILL_AFTER_MS },
    )
    expect(run.killed, 'the script did not exit by itself').toBe(false)
    expect(run.lines).toEqual([{ event: 'holding', held: true }])
    expect(run.code, run.stderr).toBe(0)
  })

  describe('against Redis', () => {
    let redis: Redis
    const managers: LockManager[] = []
    beforeAll(() => {
      redis = new Redis(REDIS_URL)
    })
    afterAll(async () => {
      await Promise.all(managers.map((locks) => locks.close()))
      redis.disconnect()
    })

    test('waiting without a timeout for a lock another process holds, it gets it when that process releases it', async () => {
      const prefix = uniquePrefix(`script-${flavour}`)
      const holder = createLockManager({ store: REDIS_URL, prefix })
      managers.push(holder)
      const handle = await holder.acquire('job')
      // The listening mark the waiting script's store sets once the lock refused it.
      const listening = `{${prefix}job}:l`
      let released: Promise<void> | undefined
      const releaseOnceWaiting = async () => {
        while ((await redis.exists(listening)) === 0) await sleep(10)
        await handle.release()
      }
      const run = app.run(
        `waiter.${flavour}`,
        script(
          flavour,
          `const locks = createLockManager({ store: ${JSON.stringify(REDIS_URL)}, prefix: ${JSON.stringify(prefix)} })
           print('requesting')
           const result = await locks.withLock('job', (lock) => ({ token: lock.fencingToken }))
           print('granted', result)
           await locks.close()`,
        ),
        { killAfterMs: KILL_AFTER_MS, onLine: (line) => void (line['event'] === 'requesting' && (released = releaseOnceWaiting())) },
      )
      const { killed, code, lines, stderr } = await run
      await released
      expect(handle.held, 'released once the script was waiting').toBe(false)
      expect(killed, stderr).toBe(false)
      expect(lines.map((line) => line['event'])).toEqual(['requesting', 'granted'])
      expect(Number(lines[1]!['token'])).toBeGreaterThan(handle.fencingToken)
      expect(code, stderr).toBe(0)
    })
  })
})
