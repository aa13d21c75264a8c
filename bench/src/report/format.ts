import type { TargetResult } from '../results.js'
import type { Summary } from '../runner/stats.js'

/** A number for a table: enough digits to compare, no more. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–'
  const abs = Math.abs(value)
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

export function formatValue(value: number, unit: string): string {
  if (unit === '') return formatNumber(value)
  return unit === '×' ? `${formatNumber(value)}×` : unit === '%' ? `${formatNumber(value)} %` : `${formatNumber(value)} ${unit}`
}

export function formatRange(low: number, high: number): string {
  return `${formatNumber(low)}–${formatNumber(high)}`
}

/** "1.05× (p25–p75 1.02–1.08)". */
export function formatSummary(summary: Summary, unit: string): string {
  return `${formatValue(summary.median, unit)} (${formatRange(summary.p25, summary.p75)})`
}

export function formatDuration(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`
}

/** A target's measured value: median and p25–p75, or min–max for a `within` target (judged on all samples). */
export function formatTarget(target: TargetResult): string {
  if (target.comparison !== 'within') return formatSummary(target.summary, target.unit)
  return `${formatValue(target.summary.median, target.unit)} (min–max ${formatRange(target.summary.min, target.summary.max)})`
}
