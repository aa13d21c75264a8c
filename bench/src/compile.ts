import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, type BuildOptions } from 'esbuild'
import { benchRoot, benchTsconfig, compiledEntry, distDir, prismaCompileError } from './paths.js'
import { CORE_B_ENV } from './core-b.js'
import { PRISMA_B_ENV } from './prisma/prisma-b.js'
import { generatePrismaClient } from './prisma/generate.js'

/**
 * Compile the bench, and the workspace sources it imports (`@cachelock/core`, `@cachelock/prisma`),
 * into `bench/dist/` with esbuild, then run that on plain Node.
 *
 * Why not run the sources under tsx, as the tests do: tsx transforms every ES module it loads with
 * `keepNames`, which wraps each function and class in a `__name()` call, including the closures
 * cachelock creates per lock; that made the memory-store case 2× slower than the published build,
 * and would also tax peers that ship ES modules. esbuild is the compiler tsup uses for the
 * published build, with the same target, so this measures what users run — from the sources as
 * they are now, on a fresh clone, with no build step of the packages (compiling takes ~0.1 s).
 *
 * Dependencies from node_modules stay external: they load exactly as an app would load them.
 * `CACHELOCK_BENCH_CORE` may point `@cachelock/core` at another copy of core's `src/index.ts`;
 * `CACHELOCK_BENCH_CORE_B` adds a copy to measure side by side (see core-b.ts).
 */
export const ENTRY_POINTS = {
  main: 'src/main.ts',
  'contention-worker': 'src/workers/contention-worker.ts',
  'held-locks-worker': 'src/workers/held-locks-worker.ts',
}

/**
 * The Prisma case is compiled on its own, after the rest: the Prisma adapter is young, and if it
 * (or its generated client) does not compile, only that case is skipped, with the reason.
 */
const PRISMA_ENTRY = { 'prisma-case': 'src/prisma/prisma-case.ts', 'prisma-pieces': 'src/prisma/prisma-pieces.ts' }

/** Compile into a fresh directory under bench/dist/ and return it; remove it with `removeCompiled`. */
export async function compileBench(): Promise<string> {
  const manifest = JSON.parse(readFileSync(join(benchRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
    devDependencies?: Record<string, string>
  }
  const external = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).flatMap((name) => [name, `${name}/*`])
  const alias: Record<string, string> = {}
  const coreOverride = process.env['CACHELOCK_BENCH_CORE']
  if (coreOverride) alias['@cachelock/core'] = coreOverride
  pruneStaleRuns()
  const outdir = join(distDir, `run-${process.pid}-${Date.now().toString(36)}`)
  mkdirSync(outdir, { recursive: true })
  const options: BuildOptions = {
    absWorkingDir: benchRoot,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: benchTsconfig,
    alias,
    external,
    // Packages reached only through the workspace sources (the Prisma adapter's peers) stay external too.
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'silent',
  }
  await build({ ...options, entryPoints: ENTRY_POINTS, splitting: true })
  const coreB = process.env[CORE_B_ENV]
  if (coreB) await build({ ...options, entryPoints: { 'core-b': coreB } })
  try {
    generatePrismaClient()
    // A second copy of the Prisma adapter, for prisma-pieces.ts to time beside this one (see there).
    const prismaB = process.env[PRISMA_B_ENV]
    await build({ ...options, entryPoints: prismaB ? { ...PRISMA_ENTRY, 'prisma-b': prismaB } : PRISMA_ENTRY })
  } catch (error) {
    rmSync(compiledEntry('prisma-case', outdir), { force: true })
    writeFileSync(prismaCompileError(outdir), firstLine(error))
  }
  return outdir
}

export function removeCompiled(outdir: string): void {
  rmSync(outdir, { recursive: true, force: true })
}

/** Runs that were killed before cleaning up leave their directory; drop those older than a day. */
function pruneStaleRuns(): void {
  let entries: string[]
  try {
    entries = readdirSync(distDir)
  } catch {
    return
  }
  for (const entry of entries) {
    const path = join(distDir, entry)
    if (entry.startsWith('run-') && Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true })
  }
}

function firstLine(error: unknown): string {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors
  const first = errors?.[0]
  if (first) return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text
  return error instanceof Error ? error.message : String(error)
}
