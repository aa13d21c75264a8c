import type { BenchResults, Row } from '../results.js'
import { formatValue } from './format.js'

/**
 * `results.svg`: a small bar chart for the README, written by hand (a chart library would be the
 * bench's largest dependency). One panel per charted case; a bar is the median, the thin line
 * across its end the p25–p75 spread. cachelock's bars are blue, the floor and hand-written
 * baselines grey, peers amber.
 */
const CHARTED: Record<string, string> = {
  'redis-uncontended': 'Uncontended acquire + release on Redis — µs per lock, lower is better',
  'redis-burst': '16 callers want one lock at once, 2 processes — grants per second, higher is better',
  handoff: 'Release → next holder running, across processes — ms, lower is better',
}

const WIDTH = 760
const LABEL_WIDTH = 250
const VALUE_WIDTH = 110
const BAR_AREA = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20
const ROW_HEIGHT = 22
const TITLE_HEIGHT = 30
const PANEL_GAP = 16

export function svgChart(results: BenchResults): string {
  const panels = results.cases.filter((result) => CHARTED[result.id] && result.rows.length > 0)
  const parts: string[] = []
  let y = 10
  for (const result of panels) {
    parts.push(`<text x="10" y="${y + 18}" class="title">${escapeXml(CHARTED[result.id]!)}</text>`)
    y += TITLE_HEIGHT
    const scale = Math.max(...result.rows.map((row) => row.summary.p75 || row.summary.median))
    for (const row of result.rows) {
      parts.push(bar(row, y, scale))
      y += ROW_HEIGHT
    }
    y += PANEL_GAP
  }
  const machine = results.machine
  parts.push(
    `<text x="10" y="${y + 8}" class="note">${escapeXml(
      `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, Redis ${machine.redis ?? '?'}; ${results.finishedAt.slice(0, 10)}; ` +
        `load average up to ${machine.loadAverage.max.toFixed(1)}`,
    )}</text>`,
  )
  const height = y + 20
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="cachelock benchmark results">`,
    '<style>text{font:12px system-ui,-apple-system,Segoe UI,sans-serif;fill:#1f2937}.title{font-weight:600;font-size:13px}.note{fill:#6b7280;font-size:11px}.value{font-variant-numeric:tabular-nums}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}

function bar(row: Row, y: number, scale: number): string {
  const width = (value: number) => (scale > 0 && Number.isFinite(value) ? Math.max(1, (value / scale) * BAR_AREA) : 0)
  const color = /^(cachelock|store-only)/.test(row.id) ? '#2563eb' : /floor|minimal|raw|rtt|solo|plain/.test(row.id) ? '#9ca3af' : '#f59e0b'
  const x = LABEL_WIDTH
  const barWidth = width(row.summary.median)
  const mid = y + ROW_HEIGHT / 2
  return [
    `<text x="${LABEL_WIDTH - 8}" y="${mid + 4}" text-anchor="end">${escapeXml(row.label)}</text>`,
    `<rect x="${x}" y="${y + 4}" width="${barWidth.toFixed(1)}" height="${ROW_HEIGHT - 8}" fill="${color}" rx="2"/>`,
    `<line x1="${(x + width(row.summary.p25)).toFixed(1)}" x2="${(x + width(row.summary.p75)).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="#111827" stroke-width="1.5"/>`,
    `<text x="${(x + Math.max(barWidth, width(row.summary.p75)) + 6).toFixed(1)}" y="${mid + 4}" class="value">${escapeXml(formatValue(row.summary.median, row.unit))}</text>`,
  ].join('\n')
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
