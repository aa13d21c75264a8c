import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export const REDIS_URL = process.env['CACHELOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391'
export const CLUSTER_URL = process.env['CACHELOCK_TEST_REDIS_CLUSTER_URL'] ?? 'redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103'
export const MEMCACHED_URL = process.env['CACHELOCK_TEST_MEMCACHED_URL'] ?? 'memcached://127.0.0.1:11311,127.0.0.1:11312'

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Run `cachelock ARGS` as its own process (the sources under tsx, as a fresh clone runs them),
 * with `input` written to its stdin and then closed (or stdin left open when `input` is
 * `'keep-open'`). Resolves when it exits; a run that does not exit within 60 s is killed.
 */
export function cachelock(args: string[], options: { input?: string; env?: Record<string, string | undefined> } = {}): Promise<CliRun> {
  const env = { ...process.env, CACHELOCK_URL: undefined, ...options.env }
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: packageDir, env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  if (options.input !== 'keep-open') child.stdin.end(options.input ?? '')
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A key prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `cli:${label}:${randomBytes(4).toString('hex')}:`
}

/** The lines of a program's output, without the trailing newline's empty one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1)
}
