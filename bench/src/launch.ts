import { spawn } from 'node:child_process'
import { compileBench, removeCompiled } from './compile.js'
import { compiledEntry, repoRoot } from './paths.js'

/**
 * `pnpm bench [--quick] [--only=case,…] [--out=dir]`: compile the bench (see compile.ts), then run
 * it on plain Node in a child process, so nothing of tsx (which runs this launcher) is loaded
 * while measuring. The compiled run is removed afterwards.
 */
const outdir = await compileBench()
const child = spawn(process.execPath, [compiledEntry('main', outdir), ...process.argv.slice(2)], {
  cwd: repoRoot,
  stdio: 'inherit',
  env: { ...process.env, CACHELOCK_BENCH_DIST: outdir },
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => {
  removeCompiled(outdir)
  process.exitCode = code ?? (signal ? 1 : 0)
})
