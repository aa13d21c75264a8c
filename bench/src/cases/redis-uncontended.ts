import { createLockManager } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { loadCoreB } from '../core-b.js'
import { openRedis } from '../clients/redis.js'
import type { BenchCase } from '../context.js'
import { targetResult, type TargetResult } from '../results.js'
import { interleave, latencyContender } from '../runner/interleave.js'
import { cachelockHandle, cachelockWithLock } from '../subjects/cachelock.js'
import { storeOnly } from '../subjects/cachelock-store.js'
import { minimalFencedRedisLock, minimalRedisLock, twoPings } from '../subjects/minimal-redis-lock.js'
import { PEER_IDS, PEER_LABELS, redisPeer } from '../subjects/redis-peers.js'
import { ratio, rowsOf } from './rows.js'

/**
 * One caller takes and releases a lock nobody else wants, over and over: the cost of the lock
 * itself. Every contender runs on the same ioredis connection, each on a key of its own.
 */
export const redisUncontended: BenchCase = {
  id: 'redis-uncontended',
  title: 'Uncontended acquire + release, Redis',
  needs: ['redis'],
  async run({ urls, settings, namespace, progress }) {
    const redis = await openRedis(urls.redis)
    const store = new RedisStore(redis)
    const locks = createLockManager({ store, prefix: `${namespace}:` })
    const B = await loadCoreB()
    const locksB = B?.createLockManager({ store: new B.RedisStore(redis), prefix: `${namespace}:b:` })
    try {
      const minimal = minimalRedisLock(redis)
      const fenced = minimalFencedRedisLock(redis)
      await minimal.prepare()
      await fenced.prepare()
      const subjects = [
        twoPings(redis),
        minimal,
        fenced,
        cachelockWithLock(locks),
        ...(locksB ? [cachelockWithLock(locksB, 'cachelock withLock (B)', 'cachelock-b')] : []),
        cachelockHandle(locks),
        storeOnly(store, 'store-only', 'RedisStore alone (no manager)'),
        ...PEER_IDS.map((id) => redisPeer(id, redis)),
      ]
      const contenders = subjects.map((subject) => {
        const key = `${namespace}:${subject.id}`
        return latencyContender(subject.id, subject.label, () => subject.run(key, noop), settings)
      })
      const samples = await interleave(contenders, {
        rounds: settings.rounds,
        onSample: (round, contender) => progress.update(`redis uncontended: round ${round + 1}/${settings.rounds} ${contender.label}`),
      })
      const rows = rowsOf(subjects, samples, 'µs/op')
      for (const row of rows) {
        row.extra = {
          'vs minimal lock': ratio(samples, row.id, 'minimal').median,
          'vs minimal fenced': ratio(samples, row.id, 'minimal-fenced').median,
        }
        if (row.id === 'cachelock-b') row.extra['B ÷ cachelock'] = ratio(samples, 'cachelock-b', 'cachelock').median
      }
      const targets: TargetResult[] = [
        targetResult({
          target: '≤ 1.10× the minimal lock',
          measure: 'cachelock withLock / minimal lock, time per acquire + release',
          unit: '×',
          summary: ratio(samples, 'cachelock', 'minimal'),
          comparison: '<=',
          limit: 1.1,
        }),
        ...PEER_IDS.map((peer) =>
          targetResult({
            target: `faster than ${PEER_LABELS[peer]}`,
            measure: `cachelock withLock / ${peer}, time per acquire + release`,
            unit: '×',
            summary: ratio(samples, 'cachelock', peer),
            comparison: '<=',
            limit: 1,
          }),
        ),
      ]
      return {
        rows,
        targets,
        notes: [
          'One sample = the mean time of a batch of sequential acquire + (empty critical section) + release, ' +
            `~${settings.batchMs} ms per batch; ${settings.rounds} interleaved rounds; ratios are paired round by round.`,
          'Peers use their cheapest path (acquire/release, no auto-extension where it is optional) and their defaults; ' +
            'cachelock withLock renews while held (autoExtend, default on) and returns a fencing token.',
          '"RedisStore alone" calls the store\'s acquire and release directly, without the lock manager (no queue, lease or ' +
            "renewal): the difference to withLock is the manager's share, the difference to the minimal fenced lock the store's.",
          'The minimal fenced lock is the minimal lock plus a fencing token (SET NX PX and INCR in one script): the floor of any ' +
            'lock that hands out fencing tokens, as cachelock does.',
        ],
      }
    } finally {
      await locks.close()
      await locksB?.close()
      redis.disconnect()
    }
  },
}

function noop(): void {}
