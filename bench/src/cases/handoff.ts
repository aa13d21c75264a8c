import { setTimeout as sleep } from 'node:timers/promises'
import { createLockManager } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import type { Redis } from 'ioredis'
import { Mutex } from 'redis-semaphore'
import { openRedis } from '../clients/redis.js'
import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, type Contender } from '../runner/interleave.js'
import { quantile, summarize } from '../runner/stats.js'
import { PEER_LABELS } from '../subjects/redis-peers.js'
import { startContentionWorkers } from '../workers/contention-pool.js'
import type { ContentionRequest, ContentionSubject, OnceResult } from '../workers/contention-protocol.js'
import { ratio, row } from './rows.js'

/**
 * Handoff latency: a holder (this process) releases while another app server (a worker process)
 * waits for the lock; how long from the release call until the waiter's critical section starts.
 * Both ends read `process.hrtime` (CLOCK_MONOTONIC, shared by all processes on the machine).
 *
 * Against one Redis round trip (a `PING` from this process), timed one by one in the same rounds,
 * and against the floor of any wake-then-acquire handoff, measured the same way between the same
 * two processes: a `PUBLISH`, the waiting process waking on the message, and one command (where a
 * lock's waiter would send its acquire). A busy process's `PING` is the fastest round trip there
 * is; a handoff also pays for waking a process that was idle, which on a loaded VM costs more than
 * the round trip itself.
 */
export const handoff: BenchCase = {
  id: 'handoff',
  title: 'Handoff: release → next holder running, Redis',
  needs: ['redis'],
  async run({ urls, settings, namespace, progress }) {
    const redis = await openRedis(urls.redis)
    const locks = createLockManager({ store: new RedisStore(redis), prefix: `${namespace}:` })
    const [waiter] = await startContentionWorkers(1, urls.redis, namespace)
    // Long enough for the waiter to be refused, subscribe and park, under load too; jittered so a
    // polling peer's retry timer is at a random phase when the release comes.
    const settle = () => sleep((settings.handoffsPerRound > 5 ? 25 : 10) + Math.random() * 10)
    const events: Record<string, number[]> = { rtt: [], floor: [], cachelock: [], 'redis-semaphore': [] }
    // `key` is what both sides pass to their library: a lock name for cachelock (whose managers add
    // the namespace as prefix), the full Redis key for a peer.
    const handoffOnce = (subject: ContentionSubject, hold: (key: string) => Promise<() => Promise<unknown>>) => async (name: string) => {
      const key = subject === 'cachelock' ? name : `${namespace}:${name}`
      const release = await hold(key)
      const granted = waiter!.request<OnceResult>({ type: 'once', subject, key } satisfies ContentionRequest)
      await settle()
      const releasedAt = process.hrtime.bigint()
      await release()
      const { runningAt } = await granted
      const ms = Number(BigInt(runningAt) - releasedAt) / 1e6
      if (ms < 0) throw new Error(`handoff: the waiter ran ${-ms} ms before the release: the two sides did not lock the same key`)
      return ms
    }
    const perEvent = (id: string, label: string, once: (key: string) => Promise<number>): Contender => ({
      id,
      label,
      async prepare() {
        for (let i = 0; i < 3; i++) await once(`handoff:${id}:warm:${i}`)
      },
      async measure(round) {
        const times: number[] = []
        for (let i = 0; i < settings.handoffsPerRound; i++) times.push(await once(`handoff:${id}:${round}:${i}`))
        events[id]!.push(...times)
        return summarize(times).median
      },
    })
    const contenders = [
      perEvent('rtt', 'Redis round trip (PING)', () => roundTrip(redis)),
      perEvent('floor', 'floor: PUBLISH → waiter wakes → 1 command', async (name) => {
        const channel = `${namespace}:${name}`
        const done = waiter!.request<OnceResult>({ type: 'wake', channel } satisfies ContentionRequest)
        await settle()
        const releasedAt = process.hrtime.bigint()
        await redis.publish(channel, '')
        return Number(BigInt((await done).runningAt) - releasedAt) / 1e6
      }),
      perEvent(
        'cachelock',
        'cachelock handoff',
        handoffOnce('cachelock', async (name) => {
          const handle = await locks.acquire(name)
          return () => handle.release()
        }),
      ),
      perEvent(
        'redis-semaphore',
        `${PEER_LABELS['redis-semaphore']} handoff`,
        handoffOnce('redis-semaphore', async (key) => {
          const mutex = new Mutex(redis, key)
          await mutex.acquire()
          return () => mutex.release()
        }),
      ),
    ]
    try {
      const samples = await interleave(contenders, {
        rounds: settings.handoffRounds,
        onSample: (round, c) => progress.update(`handoff: round ${round + 1}/${settings.handoffRounds} ${c.label}`),
      })
      const rows = contenders.map((c) => {
        const sorted = [...events[c.id]!].sort((a, b) => a - b)
        return row(c.id, c.label, 'ms', samples[c.id]!, {
          'p50 of all': quantile(sorted, 0.5),
          'p90 of all': quantile(sorted, 0.9),
          'in round trips': ratio(samples, c.id, 'rtt').median,
          'vs floor': ratio(samples, c.id, 'floor').median,
        })
      })
      return {
        rows,
        targets: [
          targetResult({
            target: 'p50 ≤ 2 round trips',
            measure: "median handoff ÷ median PING round trip, per round (each round's medians)",
            unit: 'RT',
            summary: ratio(samples, 'cachelock', 'rtt'),
            comparison: '<=',
            limit: 2,
          }),
        ],
        notes: [
          `${settings.handoffsPerRound} handoffs and as many PINGs per round, ${settings.handoffRounds} interleaved rounds; a row's ` +
            'median/spread is over the rounds\' medians, "p50/p90 of all" over every single event.',
          'Each handoff: this process takes the lock, a worker process requests it and is given 25–35 ms to be refused and park, ' +
            "then this process releases. Timed from the release call to the first line of the waiter's critical section.",
          'The floor row: this process publishes on a channel the worker listens to; the worker wakes and sends one PING; timed ' +
            "from the publish call to that PING's reply.",
          'redis-semaphore (the fastest-polling peer, every 10 ms) for scale; the redlock peers poll every 100–300 ms.',
        ],
      }
    } finally {
      await waiter!.close()
      await locks.close()
      redis.disconnect()
    }
  },
}

async function roundTrip(client: Redis): Promise<number> {
  const started = performance.now()
  await client.ping()
  return performance.now() - started
}
