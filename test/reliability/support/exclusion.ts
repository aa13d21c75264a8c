import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExclusionConfig } from '../workers/exclusion-worker.js'
import { analyzeJournal, type JournalAnalysis } from './journal.js'
import { stopAll, Worker } from './processes.js'

export interface ExclusionRun {
  url: string
  processes: number
  sectionsPerProcess: number
  /** Lock each section (the real test) or not (proof that the detector sees overlaps). */
  lock: boolean
  sleep: number
  prefix: string
  /** Longest pause between the read and the write of a short section. */
  pauseMs?: number
  ttl?: number
  /** Sections per process that outlast their ttl (see the worker). */
  longSections?: number
  longTtl?: number
  /** Give up on the run after this long. */
  timeoutMs?: number
}

export interface ExclusionResult extends JournalAnalysis {
  expected: number
  /** The shared counter after the run: equals `expected` only if no update was lost. */
  count: number
  /** Sections that failed (a store error) as reported by the workers. */
  errors: number
  /** Workers that exited other than with 0, or reported an unhandled rejection. */
  crashed: number
  /** From the first `go` to the last `done`. */
  ms: number
  /** The longest any section waited for the lock. */
  longestWaitMs: number
  details: string[]
}

/**
 * Run K worker processes × N critical sections on one lock name and collect the evidence: the
 * counter they increment non-atomically and the journal of their enter/exit records. All workers
 * connect first and start together, so they contend from the first section.
 */
export async function runExclusion(run: ExclusionRun): Promise<ExclusionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cachelock-exclusion-'))
  const counterFile = join(dir, 'counter')
  const journalFile = join(dir, 'journal')
  writeFileSync(counterFile, '0')
  writeFileSync(journalFile, '')
  const config: ExclusionConfig = {
    url: run.url,
    prefix: run.prefix,
    name: 'shared-counter',
    sections: run.sectionsPerProcess,
    pauseMs: run.pauseMs ?? 4,
    ttl: run.ttl ?? 10_000,
    longSections: run.longSections ?? 0,
    longTtl: run.longTtl ?? 300,
    sleep: run.sleep,
    counterFile,
    journalFile,
    lock: run.lock,
  }
  const workers = Array.from({ length: run.processes }, () => new Worker('exclusion-worker.ts', config))
  const details: string[] = []
  try {
    await Promise.all(workers.map((worker) => worker.next('ready', 60_000)))
    const started = performance.now()
    for (const worker of workers) worker.send({ cmd: 'go' })
    const done = await Promise.all(workers.map((worker) => worker.next('done', run.timeoutMs ?? 120_000)))
    const ms = performance.now() - started
    await Promise.all(workers.map((worker) => worker.stop()))
    let crashed = 0
    for (const worker of workers) {
      const exit = await worker.exited
      const unhandled = worker.all('unhandled')
      if (exit.code !== 0 || unhandled.length > 0) {
        crashed++
        details.push(
          `worker ${worker.pid}: exit ${exit.code ?? exit.signal}, ${JSON.stringify(unhandled)}, stderr: ${worker.stderr.slice(0, 2000)}`,
        )
      }
      for (const error of worker.all('error').slice(0, 3))
        details.push(`worker ${worker.pid} section error: ${JSON.stringify(error['error'])}`)
    }
    return {
      ...analyzeJournal(journalFile),
      expected: run.processes * (run.sectionsPerProcess + (run.longSections ?? 0)),
      count: Number(readFileSync(counterFile, 'utf8')),
      errors: done.reduce((sum, message) => sum + Number(message['errors']), 0),
      crashed,
      ms,
      longestWaitMs: Math.max(...done.map((message) => Number(message['longestWaitMs']))),
      details,
    }
  } finally {
    await stopAll(workers)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One line for the test output and the soak's running summary. */
export function describeRun(label: string, run: ExclusionRun, result: ExclusionResult): string {
  return (
    `${label}: ${run.processes} processes × ${run.sectionsPerProcess} sections` +
    `${run.longSections ? ` + ${run.longSections} over the ttl (${run.longTtl ?? 300} ms)` : ''}${run.lock ? '' : ' WITHOUT the lock'} → ` +
    `count ${result.count}/${result.expected}, overlaps ${result.overlaps} (max ${result.maxInside} inside, longest ${result.longestOverlapMs.toFixed(1)} ms), ` +
    `errors ${result.errors}, crashed ${result.crashed}, ${(result.ms / 1000).toFixed(1)} s ` +
    `(${((result.entered / result.ms) * 1000).toFixed(0)} sections/s, longest wait ${result.longestWaitMs.toFixed(0)} ms)`
  )
}
