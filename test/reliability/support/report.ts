import { appendFileSync } from 'node:fs'

/**
 * Measured figures go to the test output (one `[reliability]` line each), and, when
 * `CACHELOCK_RELIABILITY_FIGURES` names a file, into it as JSON lines: the numbers quoted in
 * GUARANTEES.md come from there.
 */
export function report(test: string, figures: Record<string, unknown>, line?: string): void {
  console.log(`[reliability] ${test}: ${line ?? JSON.stringify(figures)}`)
  const file = process.env['CACHELOCK_RELIABILITY_FIGURES']
  if (file) appendFileSync(file, `${JSON.stringify({ test, ...figures })}\n`)
}
