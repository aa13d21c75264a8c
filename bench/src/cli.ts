import { join } from 'node:path'
import type { Mode } from './results.js'
import { benchRoot, distDir } from './paths.js'

export interface CliOptions {
  mode: Mode
  /** Case ids to run (all when empty). */
  only: string[]
  /** Where results.json, results.md and results.svg go. */
  outDir: string
}

export const USAGE = `usage: pnpm bench [--quick] [--only=case[,case…]] [--out=dir]

  --quick   a few seconds: proves every case still runs (numbers are not meaningful);
            writes to bench/dist/quick/ unless --out is given
  --only    run these cases (ids as listed in the table)
  --out     directory for results.json, results.md, results.svg (default: bench/)`

/** Parse argv; throws with the usage text on anything unknown. */
export function parseArgs(argv: readonly string[]): CliOptions {
  let mode: Mode = 'full'
  let only: string[] = []
  let outDir: string | undefined
  for (const arg of argv) {
    if (arg === '--quick') mode = 'quick'
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',').filter(Boolean)
    else if (arg.startsWith('--out=')) outDir = arg.slice('--out='.length)
    else if (arg === '--') continue
    else throw new Error(`unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`)
  }
  // Quick numbers must never overwrite the full results the README includes.
  return { mode, only, outDir: outDir ?? (mode === 'quick' ? join(distDir, 'quick') : benchRoot) }
}
