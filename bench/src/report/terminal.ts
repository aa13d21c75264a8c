import type { BenchResults, CaseResult } from '../results.js'
import { formatDuration, formatNumber, formatRange, formatTarget, formatValue } from './format.js'

/** The results as plain-text tables for the terminal (stdout). */
export function terminalReport(results: BenchResults): string {
  const lines: string[] = []
  for (const result of results.cases) lines.push(...caseLines(result), '')
  lines.push(targetTally(results))
  return lines.join('\n')
}

function caseLines(result: CaseResult): string[] {
  const lines = [`▸ ${result.title}  (${result.id}, ${formatDuration(result.durationMs)})`]
  if (result.skipped) return [...lines, `  skipped: ${result.skipped}`]
  if (result.error) lines.push(`  error: ${result.error}`)
  if (result.rows.length > 0) {
    const extraKeys = [...new Set(result.rows.flatMap((row) => Object.keys(row.extra ?? {})))]
    const table = [
      ['contender', 'median', 'p25–p75', 'min–max', 'n', ...extraKeys],
      ...result.rows.map((row) => [
        row.label,
        formatValue(row.summary.median, row.unit),
        formatRange(row.summary.p25, row.summary.p75),
        formatRange(row.summary.min, row.summary.max),
        String(row.summary.n),
        ...extraKeys.map((key) => {
          const value = row.extra?.[key]
          return value === undefined ? '' : typeof value === 'number' ? formatNumber(value) : value
        }),
      ]),
    ]
    lines.push(...alignColumns(table).map((line) => `  ${line}`))
  }
  for (const target of result.targets) {
    lines.push(`  ${target.met ? '✓ met   ' : '✗ missed'} ${target.target}: ${formatTarget(target)} — ${target.measure}`)
  }
  return lines
}

function targetTally(results: BenchResults): string {
  const targets = results.cases.flatMap((result) => result.targets)
  const met = targets.filter((target) => target.met).length
  const troubled = results.cases.filter((result) => result.error || result.skipped).map((result) => result.id)
  const load = results.machine.loadAverage
  return (
    `${met} of ${targets.length} targets met` +
    (troubled.length ? `; not measured: ${troubled.join(', ')}` : '') +
    `\nload average ${load.start.toFixed(1)} at start, ${load.max.toFixed(1)} at most, on ${results.machine.cores} cores`
  )
}

/** Left-align text columns, right-align the numeric ones. */
function alignColumns(table: string[][]): string[] {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => [...(cells[column] ?? '')].length)))
  return table.map((cells) =>
    cells
      .map((cell, column) => (column === 0 ? padEnd(cell, widths[column]!) : padStart(cell, widths[column]!)))
      .join('  ')
      .trimEnd(),
  )
}

// Pad by code points, so "µ" and "–" count as one column.
function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length))
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - [...text].length)) + text
}
