import type { BenchCase } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, type Contender } from '../runner/interleave.js'
import { summarize } from '../runner/stats.js'
import { PEER_IDS, PEER_LABELS } from '../subjects/redis-peers.js'
import { startContentionWorkers } from '../workers/contention-pool.js'
import type { BurstResult, ContentionRequest, ContentionSubject } from '../workers/contention-protocol.js'
import { PROCESSES, WAITERS_PER_PROCESS } from './redis-contended.js'
import { ratio, row } from './rows.js'

/**
 * A burst: 16 callers, 8 in each of 2 processes, want one lock at the same moment, once each (16
 * requests for the same order arriving together). Throughput = 16 grants ÷ the time until the last
 * caller has had the lock. A lock that wakes its waiters on release serves them back to back; a
 * lock whose waiters poll serves about one per retry interval.
 */
const CALLERS = PROCESSES * WAITERS_PER_PROCESS

interface BurstDetail {
  makespanMs: number
  failures: number
  unserved: number
  errors: string[]
}

export const redisBurst: BenchCase = {
  id: 'redis-burst',
  title: `${CALLERS} callers wanting one lock at once over ${PROCESSES} processes, Redis`,
  needs: ['redis'],
  async run({ urls, settings, namespace, progress }) {
    const workers = await startContentionWorkers(PROCESSES, urls.redis, namespace)
    try {
      const details = new Map<string, BurstDetail[]>()
      let burstNumber = 0
      const contender = (id: string, label: string, subject: ContentionSubject): Contender => ({
        id,
        label,
        async measure() {
          // Bursts back to back until the sample's window is used (at least one: a polling peer's
          // burst can outlast the window).
          let grants = 0
          let busyMs = 0
          const started = performance.now()
          do {
            const key = `${namespace}:burst:${id}:${burstNumber++}`
            const results = await Promise.all(
              workers.map((worker) =>
                worker.request<BurstResult>({ type: 'burst', subject, key, waiters: WAITERS_PER_PROCESS } satisfies ContentionRequest),
              ),
            )
            // Both processes start within an IPC hop of each other; the burst lasts until the later one is done.
            const makespanMs = Math.max(...results.map((result) => result.makespanMs))
            const unserved = results.reduce((sum, result) => sum + result.unserved, 0)
            const detail = {
              makespanMs,
              unserved,
              failures: results.reduce((sum, result) => sum + result.failures, 0),
              errors: results.flatMap((result) => result.errors),
            }
            details.set(id, [...(details.get(id) ?? []), detail])
            grants += CALLERS - unserved
            busyMs += makespanMs
          } while (performance.now() - started < settings.contendedWindowMs)
          return grants / (busyMs / 1000)
        },
      })
      const contenders = [
        contender('cachelock', 'cachelock', 'cachelock'),
        ...PEER_IDS.map((peer) => contender(peer, PEER_LABELS[peer], peer)),
      ]
      const samples = await interleave(contenders, {
        rounds: settings.contendedRounds,
        onSample: (round, c) => progress.update(`burst: round ${round + 1}/${settings.contendedRounds} ${c.label}`),
      })
      const rows = contenders.map((c) => {
        const list = details.get(c.id) ?? []
        const extra: Record<string, number | string> = {
          bursts: list.length,
          'ms to serve 16': summarize(list.map((detail) => detail.makespanMs)).median,
          failed: list.reduce((sum, detail) => sum + detail.failures, 0),
        }
        const unserved = list.reduce((sum, detail) => sum + detail.unserved, 0)
        if (unserved > 0) extra['unserved'] = unserved
        const errors = [...new Set(list.flatMap((detail) => detail.errors))]
        if (errors.length > 0) extra['errors'] = errors.join(', ')
        return row(c.id, c.label, 'grants/s', samples[c.id]!, extra)
      })
      return {
        rows,
        targets: PEER_IDS.map((peer) =>
          targetResult({
            target: `≥ 20× ${PEER_LABELS[peer]}'s throughput`,
            measure: `cachelock grants/s ÷ ${peer} grants/s serving a burst of ${CALLERS}, paired by round`,
            unit: '×',
            summary: ratio(samples, 'cachelock', peer),
            comparison: '>=',
            limit: 20,
          }),
        ),
        notes: [
          `Each burst: ${WAITERS_PER_PROCESS} callers in each of ${PROCESSES} worker processes request the lock at once (empty critical ` +
            `section); grants/s = ${CALLERS} ÷ the time until the last one released. Bursts repeat for ~${settings.contendedWindowMs} ms per ` +
            `sample (at least one), ${settings.contendedRounds} interleaved rounds.`,
          'Peers at their default retry settings; a caller whose library gave up ("failed") asks again until it has had the lock.',
        ],
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.close()))
    }
  },
}
