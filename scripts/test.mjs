// The README's test command: start the real servers, prepare what tests need (generated
// clients), run every suite, and end with one line CI reads: "N passed, N failed".
// Extra arguments are passed to vitest as filters: `pnpm test packages/core`.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, URL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const filters = process.argv.slice(2)

function step(title, command, args, options = {}) {
  console.log(`\n▶ ${title}`)
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options })
  return result.status === 0
}

if (
  !step('Starting Redis (standalone, Cluster, Sentinel), memcached, PostgreSQL and MariaDB on loopback', 'bash', [
    'scripts/services.sh',
    'start',
  ])
) {
  console.log('\n0 passed, 1 failed')
  process.exit(1)
}
const env = { ...process.env }
for (const line of execFileSync('bash', ['scripts/services.sh', 'env'], { cwd: root, encoding: 'utf8' }).split('\n')) {
  const match = /^export (\w+)=(.*)$/.exec(line.trim())
  if (match) env[match[1]] = match[2].replace(/^['"]|['"]$/g, '')
}

if (!step('Preparing packages for tests (generated clients, schemas)', 'pnpm', ['-r', '--if-present', 'run', 'test:prepare'], { env })) {
  console.log('\n0 passed, 1 failed')
  process.exit(1)
}

// Multi-process and fault-injection suites measure timing under load, and stop and restart
// servers: they run alone, one file at a time, after the rest. (vitest ORs positional filters, so
// the reliability phase gets only the filters that point into it.)
const reliability = 'test/reliability/'
const inReliability = filters.filter((filter) => filter.replace(/^\.\//, '').startsWith(reliability))
// Suites that flush the scripts of the standalone Redis and the Cluster (SCRIPT FLUSH) or count
// every command those servers see (MONITOR): beside other files they would disturb them or be
// disturbed, so they run one at a time too. (wait-replicas.test.ts flushes the Sentinel trio's
// primary, which nothing counts, so it stays with the rest.)
const wholeServer = ['packages/core/test/stores/redis/commands.test.ts', 'packages/core/test/stores/redis/extend-many.test.ts']
const wholeServerChosen = filters.length
  ? wholeServer.filter((file) => filters.some((filter) => file.includes(filter.replace(/^\.\//, ''))))
  : wholeServer
// vitest's default is one worker fewer than the cores: one, on a two-core machine. The suites
// mostly wait on servers, so two files at a time take about half as long there.
const workers = Math.max(2, availableParallelism() - 1)
const phases = [
  {
    title: 'Unit, contract and integration suites',
    args: [`--maxWorkers=${workers}`, '--exclude', `${reliability}**`, ...wholeServer.flatMap((file) => ['--exclude', file]), ...filters],
  },
  {
    title: 'Suites that act on a whole server (one file at a time)',
    args: ['--no-file-parallelism', ...wholeServerChosen],
    skip: wholeServerChosen.length === 0,
  },
  {
    title: 'Reliability suites (one file at a time)',
    args: ['--no-file-parallelism', ...(inReliability.length ? inReliability : filters.length ? [] : [reliability])],
    skip: filters.length > 0 && inReliability.length === 0,
  },
]

let passed = 0
let failed = 0
/** What failed, said again just above the last line, so a log's tail names it. */
const failures = []
for (const [index, phase] of phases.entries()) {
  if (phase.skip) continue
  const report = join(root, `.vitest-report-${index}.json`)
  rmSync(report, { force: true })
  const ok = step(
    phase.title,
    'pnpm',
    [
      'exec',
      'vitest',
      'run',
      ...phase.args,
      ...(filters.length ? ['--passWithNoTests'] : []),
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    { env },
  )
  if (!existsSync(report)) {
    // The runner died before reporting: count the phase as one failure so CI sees it.
    failed += 1
    continue
  }
  const results = JSON.parse(readFileSync(report, 'utf8'))
  passed += results.numPassedTests
  failed += results.numFailedTests
  failures.push(...failuresIn(results))
  // A suite that failed to load has no failed tests but still fails the run.
  if (!ok && results.numFailedTests === 0) failed += Math.max(1, results.numFailedTestSuites)
}

if (failures.length) {
  console.log(`\n✗ What failed (${failures.length}):`)
  for (const failure of failures) console.log(failure)
}
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)

/** One short entry per failed test or suite of a vitest JSON report: file, test, first lines of the error. */
function failuresIn(results) {
  const entries = []
  const firstLines = (text) =>
    String(text ?? '')
      .split('\n')
      .filter((line) => line.trim() && !line.includes('node_modules'))
      .slice(0, 8)
      .map((line) => `    ${line.slice(0, 300)}`)
      .join('\n')
  for (const file of results.testResults ?? []) {
    const where = file.name.startsWith(root) ? file.name.slice(root.length) : file.name
    const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed')
    for (const test of failedTests) {
      entries.push(`  ✗ ${where} > ${test.fullName}\n${firstLines(test.failureMessages?.[0])}`)
    }
    if (file.status === 'failed' && failedTests.length === 0) {
      entries.push(`  ✗ ${where} (the file failed to run)\n${firstLines(file.message)}`)
    }
  }
  return entries
}
