import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Where things are, from the sources (`bench/src/`, under tsx) and from the compiled bench
 * (`bench/dist/<run>/`, see compile.ts): the launcher tells the compiled run where it lives
 * through `CACHELOCK_BENCH_DIST`, which worker processes inherit.
 */
const compiledDir = process.env['CACHELOCK_BENCH_DIST']

/** The bench package (`bench/`). */
export const benchRoot = fileURLToPath(new URL('../', import.meta.url)).replace(/[\\/]dist[\\/].*$/, '/')
/** The repository root. */
export const repoRoot = join(benchRoot, '..')
/** Where compile.ts writes compiled runs, one directory each, so runs at the same time never share files. */
export const distDir = join(benchRoot, 'dist')
/** The tsconfig whose `paths` map `@cachelock/*` to the packages' sources. */
export const benchTsconfig = join(benchRoot, 'tsconfig.json')

/** A compiled entry point of this run (see `ENTRY_POINTS` in compile.ts). */
export function compiledEntry(name: string, dir = compiledDir): string {
  if (!dir) throw new Error('CACHELOCK_BENCH_DIST is not set: start the bench with `pnpm bench`')
  return join(dir, `${name}.mjs`)
}

/** Why the Prisma case did not compile, when it did not (written by compile.ts). */
export function prismaCompileError(dir = compiledDir): string {
  if (!dir) throw new Error('CACHELOCK_BENCH_DIST is not set: start the bench with `pnpm bench`')
  return join(dir, 'prisma-case.error.txt')
}
