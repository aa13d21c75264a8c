// `pnpm mutate [GROUP ...] [-- STRYKER OPTIONS]`: mutation testing, one module group at a time (see
// stryker.config.mjs for the groups). Starts the test servers as `pnpm test` does, prepares the
// generated clients, then runs Stryker once per group, incrementally: mutants whose code and
// covering tests are unchanged since mutation/GROUP.incremental.json keep their result. `--force`
// (after `--`) retests every mutant. Ends with one line per group: its mutation score.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, URL } from 'node:url'
import { groups } from '../stryker.config.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const split = args.indexOf('--')
const names = split === -1 ? args : args.slice(0, split)
const strykerArgs = split === -1 ? [] : args.slice(split + 1)
const unknown = names.filter((name) => !(name in groups))
if (unknown.length > 0) {
  console.error(`Unknown group(s) ${unknown.join(', ')}; groups: ${Object.keys(groups).join(', ')}`)
  process.exit(2)
}
const selected = names.length > 0 ? names : Object.keys(groups)

function run(command, commandArgs, options = {}) {
  return spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options }).status === 0
}

if (!run('bash', ['scripts/services.sh', 'start'])) process.exit(1)
// The servers' addresses, as scripts/test.mjs passes them to the tests.
const env = { ...process.env }
for (const line of execFileSync('bash', ['scripts/services.sh', 'env'], { cwd: root, encoding: 'utf8' }).split('\n')) {
  const match = /^export (\w+)=(.*)$/.exec(line.trim())
  if (match) env[match[1]] = match[2].replace(/^['"]|['"]$/g, '')
}
if (!run('pnpm', ['-r', '--if-present', 'run', 'test:prepare'], { env })) process.exit(1)

const scores = []
let failed = false
for (const name of selected) {
  console.log(`\n▶ Mutation testing: ${name}`)
  const ok = run('pnpm', ['exec', 'stryker', 'run', 'stryker.config.mjs', ...strykerArgs], {
    env: { ...env, CACHELOCK_MUTATE_GROUP: name },
  })
  failed ||= !ok
  scores.push(`${name}: ${ok ? score(name) : 'failed'}`)
}
console.log(`\nMutation scores\n${scores.map((line) => `  ${line}`).join('\n')}`)
process.exit(failed ? 1 : 0)

/** The group's mutation score from its JSON report (killed + timed out, of all valid mutants). */
function score(name) {
  const file = join(root, 'reports', 'mutation', `${name}.json`)
  if (!existsSync(file)) return 'no report'
  const counts = {}
  for (const { mutants } of Object.values(JSON.parse(readFileSync(file, 'utf8')).files)) {
    for (const { status } of mutants) counts[status] = (counts[status] ?? 0) + 1
  }
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0)
  const valid = detected + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0)
  const rest = Object.entries(counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ')
  return `${valid ? ((100 * detected) / valid).toFixed(2) : '—'} % (${rest})`
}
