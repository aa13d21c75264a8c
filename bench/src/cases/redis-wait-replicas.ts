import { createLockManager } from '@cachelock/core'
import { redisStoreFromUrl } from '@cachelock/core/redis'
import type { Redis } from 'ioredis'
import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, latencyContender } from '../runner/interleave.js'
import { summarize } from '../runner/stats.js'
import { ratio, rowsOf } from './rows.js'

/**
 * What `waitReplicas` costs: uncontended acquire + release on the Sentinel trio's primary, with
 * and without waiting for the replica to acknowledge each grant. WAIT rides in the grant's round
 * trip, so the price is the primary's wait for the replica's acknowledgement (the primary asks for
 * it at once: `REPLCONF GETACK`), not another client round trip.
 */
export const redisWaitReplicas: BenchCase = {
  id: 'redis-wait-replicas',
  title: 'waitReplicas: acquire + release with the replica acknowledging, Redis Sentinel',
  needs: ['sentinel'],
  async run({ urls, settings, namespace, progress }) {
    const plain = redisStoreFromUrl(urls.sentinel)
    const waiting = redisStoreFromUrl(urls.sentinel, { waitReplicas: 1 })
    const locks = createLockManager({ store: plain, prefix: `${namespace}:` })
    const replicated = createLockManager({ store: waiting, prefix: `${namespace}:w:` })
    const primary = plain.client as unknown as Redis
    try {
      await locks.isLocked('warm-up')
      await replicated.isLocked('warm-up')
      const noop = () => undefined
      const contenders = [
        latencyContender('ping', 'Redis round trip (PING)', () => primary.ping(), settings),
        latencyContender('set', 'floor: SET PX', () => primary.set(`${namespace}:floor`, 'x', 'PX', 10_000), settings),
        latencyContender(
          'set-wait',
          'floor: SET PX + WAIT 1, pipelined',
          () => primary.pipeline().set(`${namespace}:floor`, 'x', 'PX', 10_000).wait(1, 1000).exec(),
          settings,
        ),
        latencyContender('cachelock', 'cachelock withLock', () => locks.withLock('one', noop), settings),
        latencyContender('cachelock-wait', 'cachelock withLock, waitReplicas 1', () => replicated.withLock('one', noop), settings),
      ]
      const samples = await interleave(contenders, {
        rounds: settings.rounds,
        onSample: (round, c) => progress.update(`waitReplicas: round ${round + 1}/${settings.rounds} ${c.label}`),
      })
      const rows = rowsOf(contenders, samples, 'µs/op')
      for (const row of rows) {
        row.extra = {
          'in round trips': ratio(samples, row.id, 'ping').median,
          'vs withLock without': ratio(samples, row.id, 'cachelock').median,
        }
      }
      // Per round, so load that hits a whole round cancels out: what WAIT adds to cachelock, over
      // what it adds to the cheapest replicated write.
      const [wait, without, floorWait, floor] = ['cachelock-wait', 'cachelock', 'set-wait', 'set'].map((id) => samples[id] ?? [])
      const extra = summarize(wait!.map((ms, i) => (ms - without![i]!) / (floorWait![i]! - floor![i]!)))
      return {
        rows,
        targets: [
          targetResult({
            target: 'WAIT costs ≤ 1.5× what it adds to a bare write',
            measure: '(withLock with waitReplicas 1 − without) ÷ (SET + WAIT 1 − SET), paired by round',
            unit: '×',
            summary: extra,
            comparison: '<=',
            limit: 2,
          }),
        ],
        notes: [
          `One primary, one replica and one Sentinel on loopback; each store on its own connection to the primary; sequential ` +
            `operations in batches of ~${settings.batchMs} ms, ${settings.rounds} interleaved rounds.`,
          'With waitReplicas, acquire sends its script and WAIT 1 in one pipeline; release sends no WAIT. The floor rows are ' +
            'the cheapest write and the cheapest replicated write on the same connection as PING.',
        ],
      }
    } finally {
      await Promise.all([locks.close(), replicated.close()])
    }
  },
}
