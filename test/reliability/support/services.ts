import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { portOf } from './env.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../..', import.meta.url))

/** A server a fault-injection test stops and starts: the standalone Redis, one memcached, PostgreSQL or MariaDB. */
export type Server = { kind: 'redis' | 'memcached' | 'postgres' | 'mariadb'; url: string }

/**
 * `scripts/services.sh stop|start` for the one server `server.url` points at. The port comes from
 * the URL (and reaches the script through its own port variables), so a run against servers on
 * other ports stops those, never someone else's. The Cluster is never stopped here.
 */
async function services(command: 'stop' | 'start', server: Server): Promise<void> {
  const port = portOf(server.url)
  const target = server.kind === 'memcached' ? `memcached:${port}` : server.kind
  const portVariable = { redis: 'CACHELOCK_TEST_REDIS_PORT', postgres: 'CACHELOCK_TEST_PG_PORT', mariadb: 'CACHELOCK_TEST_MARIADB_PORT' }
  const env = server.kind === 'memcached' ? process.env : { ...process.env, [portVariable[server.kind]]: String(port) }
  await run('bash', ['scripts/services.sh', command, target], { cwd: root, env, timeout: 90_000 })
}

export const stopServer = (server: Server) => services('stop', server)
export const startServer = (server: Server) => services('start', server)

/** Stop and start the server under test, from inside `withServerDown`. */
export interface ServerControl {
  stop: () => Promise<void>
  start: () => Promise<void>
}

/**
 * Run `body` with `server` stopped at the moment `body` calls `stop()`, and always start it again
 * afterwards, whatever `body` does: later tests (and other suites run later) need it up.
 */
export async function withServerDown<T>(server: Server, body: (control: ServerControl) => Promise<T>): Promise<T> {
  let down = false
  const control: ServerControl = {
    stop: async () => {
      await stopServer(server)
      down = true
    },
    start: async () => {
      await startServer(server)
      down = false
    },
  }
  try {
    return await body(control)
  } finally {
    if (down) await startServer(server)
  }
}

/**
 * Freeze the server's process (SIGSTOP): its connections stay open and accept bytes, but nothing
 * answers, like a server stuck in a long fork, swap or a network black hole. `body` runs frozen;
 * the server always gets SIGCONT afterwards. The pid comes from services.sh's pidfile.
 */
export async function withServerFrozen<T>(server: Server, body: () => Promise<T>): Promise<T> {
  const port = portOf(server.url)
  const pidFile = server.kind === 'redis' ? `.services/redis-${port}/redis.pid` : `.services/memcached-${port}/memcached.pid`
  const pid = Number(readFileSync(`${root}/${pidFile}`, 'utf8').trim())
  // The pidfile must name the daemon serving this port (memcached writes it only after binding).
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  if (!command.includes(server.kind === 'redis' ? `:${port}` : `-p ${port} `)) {
    throw new Error(`${pidFile} names pid ${pid} (${command.trim()}), not the ${server.kind} on port ${port}`)
  }
  process.kill(pid, 'SIGSTOP')
  try {
    // kill() only queues the signal: wait until the kernel reports the process stopped, so no
    // request sent from here on can still be answered.
    await until(() => processState(pid) === 'T', 5000, `pid ${pid} (${pidFile}) to stop`)
    return await body()
  } finally {
    process.kill(pid, 'SIGCONT')
  }
}

/** The state letter of a process from /proc (R running, S sleeping, T stopped, ...). */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return undefined
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}
