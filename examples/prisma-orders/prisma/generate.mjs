// `prisma generate`, made to work offline: the CLI downloads a schema engine before any command
// unless PRISMA_SCHEMA_ENGINE_BINARY names an executable, and generating needs none (any will do).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')
const { status, stdout, stderr } = spawnSync(process.execPath, [cli, 'generate', '--schema', 'prisma/schema.prisma'], {
  encoding: 'utf8',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
})
// Quiet when it works, so the demo's output is the demo.
if (status !== 0) process.stderr.write(stdout + stderr)
process.exit(status ?? 1)
