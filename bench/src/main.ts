import { randomBytes } from 'node:crypto'
import { join, relative, resolve } from 'node:path'
import { CASES } from './cases/index.js'
import { parseArgs, USAGE } from './cli.js'
import { SETTINGS, type BenchContext } from './context.js'
import { describeMachine, watchLoad } from './machine.js'
import { benchRoot, repoRoot } from './paths.js'
import { terminalReport } from './report/terminal.js'
import { writeResults } from './report/write.js'
import { RESULTS_SCHEMA, type BenchResults, type CaseResult } from './results.js'
import { Progress } from './runner/progress.js'
import { startServices, type Service } from './services.js'
import { probeVersions } from './versions.js'

/**
 * The bench's entry point, compiled by compile.ts and started by launch.ts (`pnpm bench`). Starts
 * the loopback servers, runs each case (a failing case is reported and the run goes on), prints
 * the table, and writes results.json / results.md / results.svg. Exits non-zero only when a case
 * could not run: missed targets are results, not failures.
 */
async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2))
  const unknown = options.only.filter((id) => !CASES.some((c) => c.id === id))
  if (unknown.length > 0) throw new Error(`unknown case ${unknown.join(', ')}; cases: ${CASES.map((c) => c.id).join(', ')}\n\n${USAGE}`)
  const selected = options.only.length > 0 ? CASES.filter((c) => options.only.includes(c.id)) : CASES
  const progress = new Progress()
  const startedAt = new Date()
  const machine = describeMachine()
  const stopWatching = watchLoad(machine)

  const services = [...new Set(selected.flatMap((c) => c.needs))] as Service[]
  progress.log(`bench: starting ${services.join(', ')} (scripts/services.sh)`)
  const urls = await startServices(services)
  Object.assign(machine, await probeVersions(urls, services))

  const context: BenchContext = {
    mode: options.mode,
    settings: SETTINGS[options.mode],
    urls,
    progress,
    namespace: `bench:${randomBytes(4).toString('hex')}`,
    machine,
  }
  const cases: CaseResult[] = []
  for (const benchCase of selected) {
    const started = performance.now()
    progress.update(`${benchCase.title}…`)
    let result: CaseResult
    try {
      const outcome = await benchCase.run(context)
      result = { id: benchCase.id, title: benchCase.title, ...outcome, durationMs: performance.now() - started }
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
      result = {
        id: benchCase.id,
        title: benchCase.title,
        rows: [],
        targets: [],
        notes: [],
        error: message,
        durationMs: performance.now() - started,
      }
    }
    cases.push(result)
    const verdict = result.skipped
      ? 'skipped'
      : result.error
        ? 'FAILED'
        : `${result.targets.filter((t) => t.met).length}/${result.targets.length} targets met`
    progress.log(`bench: ${benchCase.id} done in ${(result.durationMs / 1000).toFixed(1)} s (${verdict})`)
  }
  stopWatching()
  progress.clear()

  const finishedAt = new Date()
  const results: BenchResults = {
    schema: RESULTS_SCHEMA,
    mode: options.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    machine,
    cases,
  }
  console.log(terminalReport(results))
  // A full run into bench/ also refreshes the tables the READMEs show; any other --out only writes there.
  const readmes = resolve(options.outDir) === resolve(benchRoot) ? [join(repoRoot, 'README.md'), join(benchRoot, 'README.md')] : []
  const files = writeResults(results, options.outDir, readmes)
  console.log(`\nwrote ${files.map(displayPath).join(', ')}`)
  return cases.some((result) => result.error) ? 1 : 0
}

/** A path relative to the repository when it is inside it. */
function displayPath(file: string): string {
  const path = relative(repoRoot, file)
  return path.startsWith('..') ? file : path
}

main().then(
  (code) => {
    // Clients and timers of a failed case may still be open; the results are written.
    process.exit(code)
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(2)
  },
)
