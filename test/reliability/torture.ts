/**
 * The soak: the multi-process exclusion test, round after round, across the stores, for as long
 * as asked. Run from the repository root:
 *
 *   pnpm torture --minutes 30                       (root script: node --import tsx test/reliability/torture.ts)
 *   node --import tsx test/reliability/torture.ts --minutes 5 --stores redis,memcached --processes 12
 *
 * Options: --minutes N (default 1), --stores redis,cluster,memcached,postgres,mariadb,sqlite (default
 * the three caches),
 * --processes K (default 8), --sections N (per process and round, default 50),
 * --no-lock (run the sections without the lock: must fail at once; shows the soak catches it).
 *
 * Starts the servers itself (scripts/services.sh), prints a running summary after every round,
 * stops at the first violation (an overlap, a lost count, a failed section, a crashed worker)
 * with its details, and exits 1; exits 0 when the time is up with none.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('../..', import.meta.url))
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    stores: { type: 'string', default: 'redis,cluster,memcached' },
    processes: { type: 'string', default: '8' },
    sections: { type: 'string', default: '50' },
    'no-lock': { type: 'boolean', default: false },
  },
})
const minutes = Number(values.minutes)
const processes = Number(values.processes)
const sections = Number(values.sections)
if (!(minutes > 0) || !(processes >= 2) || !(sections >= 1)) {
  console.error(
    'usage: torture.ts --minutes N [--stores redis,cluster,memcached,postgres,mariadb,sqlite] [--processes K>=2] [--sections N] [--no-lock]',
  )
  process.exit(2)
}

execFileSync('bash', ['scripts/services.sh', 'start', 'redis', 'cluster', 'memcached'], { cwd: root, stdio: 'inherit' })
for (const line of execFileSync('bash', ['scripts/services.sh', 'env'], { cwd: root, encoding: 'utf8' }).split('\n')) {
  const match = /^export (\w+)=(.*)$/.exec(line.trim())
  if (match) process.env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '')
}
// Read the URLs only now that the environment names them.
const { STORES, uniquePrefix } = await import('./support/env.js')
const { describeRun, runExclusion } = await import('./support/exclusion.js')

const wanted = values.stores.split(',')
const targets = STORES.filter((store) => wanted.includes(store.name))
if (targets.length === 0) throw new Error(`no known store in --stores ${values.stores}`)

const totals = { rounds: 0, sections: 0, overlaps: 0, lost: 0, errors: 0, crashed: 0 }
const started = performance.now()
const deadline = started + minutes * 60_000
const clock = () => new Date().toISOString().slice(11, 19)
console.log(
  `torture: ${processes} processes × ${sections} sections per round on ${targets.map((t) => t.name).join(', ')} for ${minutes} min${values['no-lock'] ? ', WITHOUT the lock' : ''}`,
)

while (performance.now() < deadline) {
  const store = targets[totals.rounds % targets.length]!
  // Every other pass over the stores ends each process with a section longer than the ttl:
  // renewal under load, on every store in turn.
  const long = Math.floor(totals.rounds / targets.length) % 2 === 1
  const run = {
    url: store.url,
    processes,
    sectionsPerProcess: sections,
    longSections: long ? 1 : 0,
    longTtl: 300,
    lock: !values['no-lock'],
    sleep: store.sleep,
    prefix: uniquePrefix('torture'),
  }
  const result = await runExclusion(run)
  totals.rounds++
  totals.sections += result.entered
  totals.overlaps += result.overlaps
  totals.lost += result.expected - result.count
  totals.errors += result.errors
  totals.crashed += result.crashed
  console.log(`[${clock()}] round ${totals.rounds} ${describeRun(store.name, run, result)}`)
  console.log(
    `           total: ${totals.sections} sections, ${totals.overlaps} overlaps, ${totals.lost} lost updates, ${totals.errors} errors, ` +
      `${totals.crashed} crashed, ${((performance.now() - started) / 60_000).toFixed(1)}/${minutes} min`,
  )
  const violations = [
    result.overlaps > 0 && `${result.overlaps} sections entered while another process was inside`,
    result.count !== result.expected &&
      `counter ${result.count}, expected ${result.expected}: ${result.expected - result.count} updates lost`,
    result.errors > 0 && `${result.errors} sections failed`,
    result.crashed > 0 && `${result.crashed} workers crashed or reported unhandled rejections`,
    result.malformed > 0 && `${result.malformed} malformed journal records`,
  ].filter(Boolean)
  if (violations.length > 0) {
    console.log(`VIOLATION on ${store.name} (round ${totals.rounds}, prefix ${run.prefix}):`)
    for (const line of [...violations, ...result.details]) console.log(`  ${line}`)
    process.exit(1)
  }
}
console.log(`torture: ${totals.rounds} rounds, ${totals.sections} sections, no violation`)
process.exit(0)
