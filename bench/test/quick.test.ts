import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CASES } from '../src/cases/index.js'
import { RESULTS_SCHEMA, type BenchResults } from '../src/results.js'
import { repoRoot } from '../src/paths.js'

/**
 * `pnpm bench --quick` runs every case end to end (servers, worker processes, reports), so the
 * bench cannot rot unnoticed. Numbers from a quick run mean nothing and a shared CI machine is
 * noisy: nothing here looks at a timing or at whether a target was met, only at the shape.
 */
const run = promisify(execFile)
let out: string
let stdout: string

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'cachelock-bench-'))
  // --out keeps the quick numbers away from bench/results.*, which the README includes.
  const result = await run('pnpm', ['--silent', '--filter', '@cachelock/bench', 'run', 'bench', '--quick', `--out=${out}`], {
    cwd: repoRoot,
    timeout: 150_000,
    maxBuffer: 16 * 1024 * 1024,
  })
  stdout = result.stdout
}, 180_000)

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true })
})

describe('pnpm bench --quick', () => {
  it('runs every case and prints the table', () => {
    for (const benchCase of CASES) expect(stdout).toContain(benchCase.title)
    expect(stdout).toMatch(/\d+ of \d+ targets met/)
  })

  it('writes well-formed results.json', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults
    expect(results.schema).toBe(RESULTS_SCHEMA)
    expect(results.mode).toBe('quick')
    expect(results.machine.cores).toBeGreaterThan(0)
    expect(results.machine.node).toBe(process.version)
    expect(results.cases.map((c) => c.id)).toEqual(CASES.map((c) => c.id))
    for (const result of results.cases) {
      expect(result.error, `${result.id} failed`).toBeUndefined()
      if (result.skipped) continue
      expect(result.rows.length, result.id).toBeGreaterThan(0)
      expect(result.targets.length, result.id).toBeGreaterThan(0)
      for (const row of result.rows) {
        expect(row.samples.length, `${result.id} ${row.id}`).toBeGreaterThan(0)
        expect(Number.isFinite(row.summary.median), `${result.id} ${row.id}`).toBe(true)
      }
      for (const target of result.targets) {
        expect(typeof target.met).toBe('boolean')
        expect(Number.isFinite(target.summary.median), `${result.id}: ${target.target}`).toBe(true)
      }
    }
  })

  it('writes the Markdown table and the SVG chart', () => {
    const markdown = readFileSync(join(out, 'results.md'), 'utf8')
    expect(markdown).toContain('| case | target | measured: median (p25–p75) | |')
    for (const benchCase of CASES) expect(markdown).toContain(`#### ${benchCase.title}`)
    const svg = readFileSync(join(out, 'results.svg'), 'utf8')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg).not.toContain('NaN')
  })
})
