import type { Summary } from './runner/stats.js'

/**
 * The shape of `bench/results.json`. Bump `schema` when a field changes meaning, so the README's
 * generated table and anything reading the file can tell old results from new.
 */
export const RESULTS_SCHEMA = 1

export type Mode = 'quick' | 'full'

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA
  mode: Mode
  startedAt: string
  finishedAt: string
  durationMs: number
  machine: MachineInfo
  cases: CaseResult[]
}

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGb: number
  os: string
  node: string
  v8: string
  redis: string | null
  memcached: string | null
  postgres: string | null
  mariadb?: string | null
  sqlite?: string | null
  /** 1-minute load average at the start, the end, and the highest seen: above the core count, processes were queueing for a CPU. */
  loadAverage: { start: number; end: number; max: number }
}

/** One contender's numbers in one case. */
export interface Row {
  id: string
  label: string
  unit: string
  /** Over the rounds (one sample per round), or over individual events where the case says so. */
  summary: Summary
  samples: number[]
  /** Counters that explain the number (peers' failed acquisitions, grants per process, …). */
  extra?: Record<string, number | string>
}

/** `<=` / `>=` judge the median; `within` needs every sample (min and max) inside [limit, upperLimit]. */
export type Comparison = '<=' | '>=' | 'within'

export interface TargetResult {
  /** What the issue asks, in words: "≤ 1.10× the minimal lock". */
  target: string
  /** What was measured, in words: "cachelock / minimal lock, µs per acquire+release". */
  measure: string
  unit: string
  /** The measured value (a paired ratio, a percentage, …): the target is judged on its median. */
  summary: Summary
  comparison: Comparison
  limit: number
  upperLimit?: number
  met: boolean
}

export interface CaseResult {
  id: string
  title: string
  rows: Row[]
  targets: TargetResult[]
  /** Context a reader needs to trust the numbers (what a sample is, settings used). */
  notes: string[]
  /** Set when the case could not run (a server missing, an adapter not built yet). */
  skipped?: string
  /** Set when the case failed while running; the run goes on with the next case. */
  error?: string
  durationMs: number
}

export function targetResult(fields: Omit<TargetResult, 'met'>): TargetResult {
  const { summary, comparison, limit, upperLimit } = fields
  const met =
    comparison === '<='
      ? summary.median <= limit
      : comparison === '>='
        ? summary.median >= limit
        : summary.min >= limit && summary.max <= (upperLimit ?? Number.POSITIVE_INFINITY)
  return { ...fields, met }
}
