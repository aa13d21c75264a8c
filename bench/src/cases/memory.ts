import { createLockManager, MemoryStore } from '@cachelock/core'
import { Mutex } from 'async-mutex'
import { loadCoreB } from '../core-b.js'
import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, latencyContender, type Samples } from '../runner/interleave.js'
import { pairedRatios, summarize } from '../runner/stats.js'
import { row } from './rows.js'

/**
 * The in-process case: cachelock on its memory store (the embedded default) against async-mutex,
 * the usual in-process mutex. One caller in a loop (the lock's fixed cost), and 16 callers on one
 * lock (queueing and handoff). async-mutex does far less — no names, no ttl, no renewal, no
 * fencing token, no loss signal — so it is the ceiling, not a peer.
 */
const CONCURRENT = 16

export const memory: BenchCase = {
  id: 'memory',
  title: 'In-process lock: memory store vs async-mutex',
  needs: [],
  async run({ settings, progress }) {
    const locks = createLockManager({ store: new MemoryStore() })
    const single = new Mutex()
    const shared = new Mutex()
    const noop = () => undefined
    const B = await loadCoreB()
    const locksB = B?.createLockManager({ store: new B.MemoryStore() })
    const contenders = [
      latencyContender('async-mutex', 'async-mutex runExclusive', () => single.runExclusive(noop), settings),
      latencyContender('cachelock', 'cachelock withLock (memory)', () => locks.withLock('one', noop), settings),
      ...(locksB ? [latencyContender('cachelock-b', 'cachelock withLock (memory, B)', () => locksB.withLock('one', noop), settings)] : []),
      latencyContender('async-mutex-16', `async-mutex, ${CONCURRENT} callers`, () => shared.runExclusive(noop), {
        ...settings,
        concurrency: CONCURRENT,
      }),
      latencyContender('cachelock-16', `cachelock, ${CONCURRENT} callers`, () => locks.withLock('sixteen', noop), {
        ...settings,
        concurrency: CONCURRENT,
      }),
    ]
    const micros = await interleave(contenders, {
      rounds: settings.rounds,
      onSample: (round, contender) => progress.update(`memory: round ${round + 1}/${settings.rounds} ${contender.label}`),
    })
    // Reported as throughput, as the target is stated: operations per second, per round.
    const perSecond: Samples = Object.fromEntries(Object.entries(micros).map(([id, values]) => [id, values.map((us) => 1e6 / us)]))
    const throughputRatio = (ours: string, theirs: string) => summarize(pairedRatios(perSecond[ours]!, perSecond[theirs]!))
    return {
      rows: contenders.map((c) => {
        const extra: Record<string, number> = { 'µs/op': summarize(micros[c.id]!).median }
        if (c.id === 'cachelock-b') extra['B ÷ cachelock, ops/s'] = throughputRatio('cachelock-b', 'cachelock').median
        return row(c.id, c.label, 'ops/s', perSecond[c.id]!, extra)
      }),
      targets: [
        targetResult({
          target: '≥ 0.5× async-mutex throughput (one caller)',
          measure: 'cachelock withLock ops/s ÷ async-mutex runExclusive ops/s',
          unit: '×',
          summary: throughputRatio('cachelock', 'async-mutex'),
          comparison: '>=',
          limit: 0.5,
        }),
        targetResult({
          target: `≥ 0.5× async-mutex throughput (${CONCURRENT} callers)`,
          measure: `same, ${CONCURRENT} callers on one lock`,
          unit: '×',
          summary: throughputRatio('cachelock-16', 'async-mutex-16'),
          comparison: '>=',
          limit: 0.5,
        }),
      ],
      notes: [
        "Empty critical section. One sample = a batch of operations; with 16 callers, the batch's wall time over all their operations.",
        'cachelock runs with its defaults (ttl 30 s, autoExtend on): every grant arms renewal and expiry timers and makes a fencing token.',
      ],
    }
  },
}
