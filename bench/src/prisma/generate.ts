import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { benchRoot } from '../paths.js'

const schema = join(benchRoot, 'prisma/schema.prisma')
const client = join(benchRoot, 'generated/prisma/client.ts')

/**
 * Generate the Prisma client of the bench's schema into bench/generated/ when it is missing or
 * older than the schema (a fresh clone, an edited schema). Runs `prisma generate` offline: the CLI
 * wants a schema engine binary before any command, and generating needs none, so any executable
 * will do (see TOOLCHAIN.md).
 */
export function generatePrismaClient(): void {
  if (existsSync(client) && statSync(client).mtimeMs >= statSync(schema).mtimeMs) return
  const cli = createRequire(join(benchRoot, 'package.json')).resolve('prisma/build/index.js')
  const run = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], {
    cwd: benchRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  })
  if (run.status !== 0) throw new Error(`prisma generate failed (exit ${run.status ?? run.signal})`)
}

if (import.meta.url === `file://${process.argv[1]}`) generatePrismaClient()
