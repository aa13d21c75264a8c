import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchResults } from '../results.js'
import { markdownReport } from './markdown.js'
import { updateResultsBlock } from './readme.js'
import { svgChart } from './svg.js'

/**
 * Write results.json, results.md and results.svg into `dir`, and the table into the results block
 * of each of `readmes` that has one (the project README's Performance section and bench/README.md,
 * for a full run into bench/). Returns the paths written.
 */
export function writeResults(results: BenchResults, dir: string, readmes: readonly string[] = [join(dir, 'README.md')]): string[] {
  mkdirSync(dir, { recursive: true })
  const markdown = markdownReport(results)
  const files: [string, string][] = [
    ['results.json', `${JSON.stringify(results, null, 2)}\n`],
    ['results.md', markdown],
    ['results.svg', svgChart(results)],
  ]
  const written = files.map(([name, content]) => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  })
  for (const readme of readmes) if (updateResultsBlock(readme, markdown)) written.push(readme)
  return written
}
