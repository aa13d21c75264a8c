import { createLockManager } from '@cachelock/core'
import { MemcachedStore } from '@cachelock/core/memcached'
import { loadCoreB } from '../core-b.js'
import { memcachedRoundTrip, openMemcached } from '../clients/memcached.js'
import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, latencyContender } from '../runner/interleave.js'
import { ratio, rowsOf } from './rows.js'

/**
 * Uncontended acquire + release on memcached, against one raw memjs round trip (a `get` of a
 * missing key) on the same client. The store's floor is three round trips: acquire is one
 * pipelined round trip (add, take a fencing token, read back), release two (read the record with
 * its CAS token, then delete with that token: memcached has no compare-and-delete, and a CAS token
 * remembered from the grant could belong to another client's item after a restart).
 */
export const memcached: BenchCase = {
  id: 'memcached',
  title: 'Uncontended acquire + release, memcached',
  needs: ['memcached'],
  async run({ urls, settings, namespace, progress }) {
    const client = openMemcached(urls.memcached)
    const locks = createLockManager({ store: new MemcachedStore(client), prefix: `${namespace}:` })
    const B = await loadCoreB()
    const locksB = B?.createLockManager({ store: new B.MemcachedStore(client), prefix: `${namespace}:b:` })
    try {
      const noop = () => undefined
      const contenders = [
        latencyContender('raw', 'raw memjs round trip (get)', () => memcachedRoundTrip(client, `${namespace}:raw`), settings),
        latencyContender('cachelock', 'cachelock withLock (memcached)', () => locks.withLock('one', noop), settings),
        ...(locksB
          ? [latencyContender('cachelock-b', 'cachelock withLock (memcached, B)', () => locksB.withLock('one', noop), settings)]
          : []),
      ]
      const samples = await interleave(contenders, {
        rounds: settings.rounds,
        onSample: (round, c) => progress.update(`memcached: round ${round + 1}/${settings.rounds} ${c.label}`),
      })
      const rows = rowsOf(contenders, samples, 'µs/op')
      for (const row of rows) {
        row.extra = { 'in round trips': ratio(samples, row.id, 'raw').median }
        if (row.id === 'cachelock-b') row.extra['B ÷ cachelock'] = ratio(samples, 'cachelock-b', 'cachelock').median
      }
      return {
        rows,
        targets: [
          targetResult({
            target: '≤ 3 round trips',
            measure: 'cachelock withLock ÷ one raw memjs get, time per operation, paired by round',
            unit: 'RT',
            summary: ratio(samples, 'cachelock', 'raw'),
            comparison: '<=',
            limit: 3,
          }),
        ],
        notes: [
          `Both on one memjs client to one memcached server; sequential operations in batches of ~${settings.batchMs} ms, ` +
            `${settings.rounds} interleaved rounds.`,
          'The store pipelines what it can: acquire sends add + increment + get in one round trip; release reads the record ' +
            '(and, in parallel, the shared-holder item) and then deletes it with its CAS token.',
        ],
      }
    } finally {
      client.close()
    }
  },
}
