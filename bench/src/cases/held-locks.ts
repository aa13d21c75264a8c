import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { summarize } from '../runner/stats.js'
import { WorkerProcess } from '../runner/worker-process.js'
import type { HeldLocksRequest, HeldLocksResult } from '../workers/held-locks-protocol.js'
import { row } from './rows.js'

/**
 * Many locks held at once with auto-extend (the default): each lock is renewed every ttl/3, so
 * renewals run at 3 × n / ttl per second — proportional to the number of locks and inversely to
 * their ttl, nothing more. The manager sends the renewals due in one tick together (one script per
 * 1000 locks), so the commands, and the round trips, should not grow with n. Each held lock
 * should cost little heap. Three configurations (n, ttl), (n, 2·ttl), (n/2, ttl) show it.
 */
export const heldLocks: BenchCase = {
  id: 'held-locks',
  title: 'Locks held at once with auto-extend, Redis',
  needs: ['redis'],
  async run({ urls, settings, namespace, progress }) {
    const n = settings.heldLocks
    const [ttl, longerTtl] = settings.heldTtlsMs as [number, number]
    const request: HeldLocksRequest = {
      redisUrl: urls.redis,
      namespace,
      configs: [
        { locks: n, ttlMs: ttl },
        { locks: n, ttlMs: longerTtl },
        { locks: n / 2, ttlMs: ttl },
      ],
      windowMs: settings.heldWindowMs,
    }
    progress.update(`held locks: ${n} locks, ${request.configs.length} × ${settings.heldWindowMs} ms of renewals`)
    const worker = WorkerProcess.start('held-locks-worker', ['--expose-gc'])
    let result: HeldLocksResult
    try {
      result = await worker.request<HeldLocksResult>(request)
    } finally {
      await worker.close()
    }
    const seconds = settings.heldWindowMs / 1000
    // Renewals per lock per ttl: 3 when renewal runs exactly every ttl/3.
    const perTtl = result.configs.map((config) => ((config.renewals / seconds) * (config.ttlMs / 1000)) / config.locks)
    const rows = result.configs.map((config, index) => {
      const expected = (3 * config.locks) / (config.ttlMs / 1000)
      return row(
        `n${config.locks}-ttl${config.ttlMs}`,
        `${config.locks} locks, ttl ${config.ttlMs / 1000} s`,
        'renewals/s',
        [config.renewals / seconds],
        {
          'expected 3n/ttl': expected,
          'measured ÷ expected': config.renewals / seconds / expected,
          'commands/s': config.commands / seconds,
          'commands per renewal': config.commands / Math.max(1, config.renewals),
          lost: config.lost,
          'renewals per lock per ttl': perTtl[index]!,
        },
      )
    })
    rows.push(row('heap', `heap per held lock (${result.heapLocks} locks)`, 'B/lock', [result.heapBytesPerLock]))
    return {
      rows,
      targets: [
        targetResult({
          target: 'renewal traffic ∝ n/ttl',
          measure: 'renewals per lock per ttl, each configuration (3 = one every ttl/3); all within 2.7–3.3',
          unit: '',
          summary: summarize(perTtl),
          comparison: 'within',
          limit: 2.7,
          upperLimit: 3.3,
        }),
        targetResult({
          target: 'renewals batched: ≤ 0.1 commands per renewal',
          measure: `Redis commands ÷ renewals, ${n} locks (1 when each lock is renewed on its own)`,
          unit: '',
          summary: summarize([result.configs[0]!.commands / Math.max(1, result.configs[0]!.renewals)]),
          comparison: '<=',
          limit: 0.1,
        }),
        targetResult({
          target: 'heap ≤ 1 KB per lock',
          measure: `heap growth after a full GC ÷ ${result.heapLocks} held locks (handles from acquire())`,
          unit: 'B',
          summary: summarize([result.heapBytesPerLock]),
          comparison: '<=',
          limit: 1024,
        }),
      ],
      notes: [
        `One worker process (run with --expose-gc) holds the locks through acquire() handles; renewals are counted from the ` +
          `"${'cachelock:extended'}" diagnostics channel (automatic ones) and commands at the client, over ${settings.heldWindowMs} ms ` +
          'per configuration, a whole number of renewal periods of each ttl.',
        'Proportionality holds when renewals per lock per ttl stay at 3 (every ttl/3) in all configurations, within ±10 %.',
      ],
    }
  },
}
