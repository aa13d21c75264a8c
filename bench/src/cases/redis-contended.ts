import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, type Contender } from '../runner/interleave.js'
import { summarize, type Summary } from '../runner/stats.js'
import { PEER_IDS, PEER_LABELS } from '../subjects/redis-peers.js'
import { startContentionWorkers } from '../workers/contention-pool.js'
import type { ContentionRequest, ContentionSubject, LoopResult } from '../workers/contention-protocol.js'
import { ratio, row } from './rows.js'

/**
 * Sustained contention: 16 callers, 8 in each of 2 processes (two app servers), take one lock in a
 * loop with an empty critical section. How many grants per second the lock hands out when everybody
 * always waits, and whether both processes — and every caller — get their share. The baseline is
 * cachelock uncontended, measured the same way (one caller in one worker) in the same rounds.
 *
 * A caller that releases and asks again at once needs no wake-up, so a lock without fairness lets
 * it take the lock back every time ("barging"): its grants/s are then one caller's uncontended
 * loop, while the other callers starve. The starved-caller column shows when that happens; the
 * burst case compares how fast waiting callers are served.
 */
export const PROCESSES = 2
export const WAITERS_PER_PROCESS = 8

interface RoundDetail {
  perProcess: number[]
  perCaller: number[]
  failures: number
  errors: string[]
  drainMs: number
}

export const redisContended: BenchCase = {
  id: 'redis-contended',
  title: `${PROCESSES * WAITERS_PER_PROCESS} callers looping on one lock over ${PROCESSES} processes, Redis`,
  needs: ['redis'],
  async run({ urls, settings, namespace, progress }) {
    const workers = await startContentionWorkers(PROCESSES, urls.redis, namespace)
    try {
      const details = new Map<string, RoundDetail[]>()
      const contender = (id: string, label: string, subject: ContentionSubject, waitersPerProcess: number[]): Contender => ({
        id,
        label,
        async measure(round) {
          // A fresh key per sample: nothing a previous one left behind (a fairness queue entry, a
          // peer's late waiter) meets this one.
          const key = `${namespace}:loop:${id}:${round}`
          const results = await Promise.all(
            waitersPerProcess.map((waiters, index) =>
              workers[index]!.request<LoopResult>({
                type: 'loop',
                subject,
                key,
                waiters,
                durationMs: settings.contendedWindowMs,
              } satisfies ContentionRequest),
            ),
          )
          const detail: RoundDetail = {
            perProcess: results.map((result) => sum(result.perCaller)),
            perCaller: results.flatMap((result) => result.perCaller),
            failures: sum(results.map((result) => result.failures)),
            errors: results.flatMap((result) => result.errors),
            drainMs: Math.max(...results.map((result) => result.drainMs)),
          }
          details.set(id, [...(details.get(id) ?? []), detail])
          return sum(detail.perProcess) / (settings.contendedWindowMs / 1000)
        },
      })
      const everyone = Array.from({ length: PROCESSES }, () => WAITERS_PER_PROCESS)
      const contenders = [
        contender('solo', 'cachelock uncontended (1 caller)', 'cachelock', [1]),
        contender('cachelock', `cachelock, ${PROCESSES}×${WAITERS_PER_PROCESS} callers`, 'cachelock', everyone),
        ...PEER_IDS.map((peer) => contender(peer, `${PEER_LABELS[peer]}, ${PROCESSES}×${WAITERS_PER_PROCESS} callers`, peer, everyone)),
      ]
      const samples = await interleave(contenders, {
        rounds: settings.contendedRounds,
        onSample: (round, c) => progress.update(`contended loop: round ${round + 1}/${settings.contendedRounds} ${c.label}`),
      })
      const rows = contenders.map((c) => {
        const list = details.get(c.id) ?? []
        const extra: Record<string, number | string> = {}
        if (c.id !== 'solo') {
          extra['min process %'] = summarize(list.map(minProcessShare)).median
          extra['starved callers'] = summarize(list.map((detail) => detail.perCaller.filter((grants) => grants === 0).length)).median
        }
        extra['failed'] = sum(list.map((detail) => detail.failures))
        const errors = [...new Set(list.flatMap((detail) => detail.errors))]
        if (errors.length > 0) extra['errors'] = errors.join(', ')
        return row(c.id, c.label, 'grants/s', samples[c.id]!, extra)
      })
      return {
        rows,
        targets: [
          targetResult({
            target: '≥ 50 % of our uncontended rate',
            measure: 'cachelock contended grants/s ÷ cachelock uncontended grants/s, paired by round',
            unit: '%',
            summary: scaled(ratio(samples, 'cachelock', 'solo'), 100),
            comparison: '>=',
            limit: 50,
          }),
          targetResult({
            target: 'each process ≥ 40 % of the grants',
            measure: "the smaller process's share of cachelock's grants, per round",
            unit: '%',
            summary: summarize((details.get('cachelock') ?? []).map(minProcessShare)),
            comparison: '>=',
            limit: 40,
          }),
        ],
        notes: [
          `${PROCESSES} worker processes, each with one ioredis connection and one lock manager, ${WAITERS_PER_PROCESS} callers each ` +
            `looping on the same lock; ${settings.contendedWindowMs} ms per sample, ${settings.contendedRounds} interleaved rounds.`,
          'A grant is counted when a caller enters its critical section before the window closes. "starved callers": callers (of 16) ' +
            'that got no grant in a sample; "failed": acquisitions a library gave up on (its retry limit), after which the caller tried again.',
          "Peers let the caller that just released take the lock straight back, so their grants/s here are one caller's uncontended " +
            'loop while most callers starve; the burst case compares how fast a queue of waiting callers is served.',
        ],
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.close()))
    }
  },
}

function minProcessShare(detail: RoundDetail): number {
  const total = sum(detail.perProcess)
  return total === 0 ? 0 : (100 * Math.min(...detail.perProcess)) / total
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

function scaled(summary: Summary, factor: number): Summary {
  return {
    ...summary,
    median: summary.median * factor,
    p25: summary.p25 * factor,
    p75: summary.p75 * factor,
    min: summary.min * factor,
    max: summary.max * factor,
  }
}
