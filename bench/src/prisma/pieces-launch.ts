import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileBench, removeCompiled } from '../compile.js'
import { compiledEntry, repoRoot } from '../paths.js'
import { summarizeProfile } from '../profile/profile-summary.js'

/**
 * `node --import tsx bench/src/prisma/pieces-launch.ts [--rounds=N] [--only=a,b] [--profile=piece --seconds=N]`:
 * compile the bench (see compile.ts) and run prisma-pieces.ts on plain Node, under `--cpu-prof`
 * with `--profile`, then print the profile's self time by owner and function.
 */
const argv = process.argv.slice(2)
const outdir = await compileBench()
try {
  const profiling = argv.some((arg) => arg.startsWith('--profile='))
  const profileDir = profiling ? mkdtempSync(join(tmpdir(), 'prisma-pieces-')) : undefined
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  // --where names the source lines that make promises: stack traces through the source maps.
  if (argv.some((arg) => arg.startsWith('--where='))) flags.push('--enable-source-maps')
  const run = spawnSync(process.execPath, [...flags, compiledEntry('prisma-pieces', outdir), ...argv], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, CACHELOCK_BENCH_DIST: outdir },
  })
  process.exitCode = run.status ?? 1
  if (profileDir) {
    for (const file of readdirSync(profileDir)) {
      const path = join(profileDir, file)
      const summary = summarizeProfile(path, 40)
      const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)} %`
      console.log(`${path}\nbusy ${summary.totalMs.toFixed(0)} ms (idle excluded)\n\nby owner`)
      for (const [owner, ms] of summary.byOwner) console.log(`  ${pct(ms)}  ${owner}`)
      console.log('\nby function (self time)')
      for (const [name, ms] of summary.byFunction) console.log(`  ${pct(ms)}  ${name}`)
    }
  }
} finally {
  removeCompiled(outdir)
}
