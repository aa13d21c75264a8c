import { createRequire } from 'node:module'
import { runCli } from './run.js'

// The `cachelock` command (package.json `bin` is bin/cachelock.cjs, which requires this file built).
// Everything is in run.ts; this only binds the process.
function version(): string {
  try {
    return (createRequire(import.meta.url)('@cachelock/core/package.json') as { version: string }).version
  } catch {
    return 'unknown'
  }
}

void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  version: version(),
}).then(async (code) => {
  // Exit as soon as the output is written: a client's leftover timers or sockets (ioredis keeps a
  // 2 s disconnect timer after a failed connection) must not hold the command.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)])
  process.exit(code)
})

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()))
}
