import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FencedWriterConfig } from '../workers/fenced-writer-worker.js'
import { counterRow, type CounterConfig } from '../workers/counter-row.js'
import { stopAll, Worker } from './processes.js'

/** One run of the fenced-updates test: K processes incrementing one row (see the worker). */
export interface FencedRun {
  orm: CounterConfig['orm']
  db: CounterConfig['db']
  fenced: boolean
  url: string
  prefix: string
  /** Workers incrementing under the lock. */
  locked: number
  /** Workers incrementing without it (the mixed run). */
  unlocked: number
  sections: number
  pauseMs: number
  stallRate: number
  stallMs: number
  /** Longest pause between two sections of a worker. */
  gapMs: number
  transaction: boolean
  /** The unlocked workers check their write against the fence value they read. */
  checked: boolean
}

export interface FencedResult {
  /** Increments the database accepted, as the journal (the referee) recorded them. */
  accepted: number
  /** What the row holds at the end. */
  value: number
  /** Accepted increments missing from the row: updates lost. */
  lost: number
  /** Sections whose lock the store dropped while they ran (another process took it meanwhile). */
  stalls: number
  /** Sections whose write was refused or failed, by error name and code. */
  refused: Record<string, number>
  ms: number
  details: string[]
}

// Workers compile the TypeORM test entities (legacy decorators) with the TypeORM package's tsconfig.
const typeormTsconfig = fileURLToPath(new URL('../../../packages/typeorm/tsconfig.json', import.meta.url))

/**
 * Create the database and the row, start the workers together, let them run, and compare the
 * row with the journal of accepted increments.
 */
export async function runFenced(run: FencedRun, database: { location: string }): Promise<FencedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cachelock-fenced-'))
  const journalFile = join(dir, 'journal')
  writeFileSync(journalFile, '')
  const counter: CounterConfig = { orm: run.orm, db: run.db, location: database.location, fenced: run.fenced }
  const row = await counterRow(counter, undefined)
  const workers: Worker[] = []
  const details: string[] = []
  const previous = process.env['TSX_TSCONFIG_PATH']
  try {
    await row.create()
    process.env['TSX_TSCONFIG_PATH'] = typeormTsconfig
    const base = { ...counter, url: run.url, prefix: run.prefix, sections: run.sections, pauseMs: run.pauseMs, journalFile }
    const config = (role: 'locked' | 'unlocked'): FencedWriterConfig => ({
      ...base,
      role,
      stallRate: run.stallRate,
      stallMs: run.stallMs,
      gapMs: run.gapMs,
      transaction: run.transaction,
      checked: run.checked,
      sleep: 25,
    })
    for (let i = 0; i < run.locked; i++) workers.push(new Worker('fenced-writer-worker.ts', config('locked')))
    for (let i = 0; i < run.unlocked; i++) workers.push(new Worker('fenced-writer-worker.ts', config('unlocked')))
    await Promise.all(workers.map((worker) => worker.next('ready', 90_000)))
    const started = performance.now()
    for (const worker of workers) worker.send({ cmd: 'go' })
    const done = await Promise.all(workers.map((worker) => worker.next('done', 150_000)))
    const ms = performance.now() - started
    await Promise.all(workers.map((worker) => worker.stop()))
    for (const worker of workers) {
      const exit = await worker.exited
      const unhandled = worker.all('unhandled')
      if (exit.code !== 0 || unhandled.length > 0)
        details.push(
          `worker ${worker.pid}: exit ${exit.code ?? exit.signal}, ${JSON.stringify(unhandled)}, stderr: ${worker.stderr.slice(0, 2000)}`,
        )
    }
    const refused: Record<string, number> = {}
    for (const message of done)
      for (const [kind, n] of Object.entries(message['refused'] as Record<string, number>)) refused[kind] = (refused[kind] ?? 0) + n
    const accepted = readFileSync(journalFile, 'utf8').split('\n').filter(Boolean).length
    const value = await row.value()
    const stalls = done.reduce((sum, message) => sum + Number(message['stalls']), 0)
    return { accepted, value, lost: accepted - value, stalls, refused, ms, details }
  } finally {
    if (previous === undefined) delete process.env['TSX_TSCONFIG_PATH']
    else process.env['TSX_TSCONFIG_PATH'] = previous
    await stopAll(workers)
    await row.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

export function describeFenced(label: string, run: FencedRun, result: FencedResult): string {
  const refused = Object.entries(result.refused)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ')
  return (
    `${label}: ${run.locked} locked${run.unlocked ? ` + ${run.unlocked} unlocked${run.checked ? ' (checked)' : ''}` : ''} processes × ` +
    `${run.sections} increments, ${result.stalls} locks dropped mid-section → row ${result.value}, accepted ${result.accepted}, ` +
    `LOST ${result.lost}; refused: ${refused || 'none'}; ${(result.ms / 1000).toFixed(1)} s`
  )
}
