import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { compiledEntry } from '../paths.js'

/**
 * A second copy of the Prisma adapter, to time a proposed change to it beside the current one in
 * the same rounds: `CACHELOCK_BENCH_PRISMA_B=/path/to/copy/packages/prisma/src/index.ts`, and
 * prisma-pieces.ts adds its `withLock` pieces as "(B)". compile.ts bundles the copy as an entry
 * point of its own (with its own copy of core; the record-lock flow is shared through globalThis).
 */
export const PRISMA_B_ENV = 'CACHELOCK_BENCH_PRISMA_B'

export async function loadPrismaB(): Promise<typeof import('@cachelock/prisma') | undefined> {
  if (!process.env[PRISMA_B_ENV]) return undefined
  const entry = compiledEntry('prisma-b')
  if (!existsSync(entry)) throw new Error(`${PRISMA_B_ENV} is set but the copy was not compiled`)
  return (await import(pathToFileURL(entry).href)) as typeof import('@cachelock/prisma')
}
