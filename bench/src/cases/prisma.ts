import { existsSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { BenchCase, BenchContext } from '../context.js'
import { compiledEntry, prismaCompileError } from '../paths.js'
import type { CaseResult } from '../results.js'

type PrismaCaseModule = {
  runPrismaCase(context: BenchContext): Promise<Omit<CaseResult, 'id' | 'title' | 'durationMs'> & { postgres: string }>
}

/**
 * `db.order.withLock` against a plain `findUnique`. The implementation (src/prisma/prisma-case.ts)
 * is compiled separately by compile.ts and loaded here, so a Prisma adapter that does not compile
 * yet skips this case instead of breaking the bench.
 */
export const prismaCase: BenchCase = {
  id: 'prisma',
  title: 'Prisma on PostgreSQL: withLock vs findUnique and the hand-written locks',
  needs: ['redis', 'postgres'],
  async run(context) {
    const entry = compiledEntry('prisma-case')
    if (!existsSync(entry)) {
      const why = existsSync(prismaCompileError()) ? readFileSync(prismaCompileError(), 'utf8').trim() : 'not compiled'
      return { rows: [], targets: [], notes: [], skipped: `the Prisma adapter or its generated client did not compile: ${why}` }
    }
    const module = (await import(pathToFileURL(entry).href)) as PrismaCaseModule
    const { postgres, ...result } = await module.runPrismaCase(context)
    context.machine.postgres = postgres
    return result
  },
}
