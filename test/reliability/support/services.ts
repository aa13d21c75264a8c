import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
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
 * Freeze the server (SIGSTOP): its connections stay open and accept bytes, but nothing answers,
 * like a server stuck in a long fork, swap or a network black hole. `body` runs frozen; the server
 * always gets SIGCONT afterwards. The pid comes from services.sh's pidfile; PostgreSQL's backends
 * (one process per connection) are frozen with their postmaster.
 */
export async function withServerFrozen<T>(server: Server, body: () => Promise<T>): Promise<T> {
  const pids = serverPids(server)
  for (const pid of pids) process.kill(pid, 'SIGSTOP')
  try {
    // kill() only queues the signal: wait until the kernel reports every process stopped, so no
    // request sent from here on can still be answered.
    await until(() => pids.every((pid) => processState(pid) === 'T'), 5000, `pids ${pids.join(', ')} to stop`)
    return await body()
  } finally {
    for (const pid of pids) process.kill(pid, 'SIGCONT')
  }
}

/** The processes serving `server`'s port, checked against their command lines. */
function serverPids(server: Server): number[] {
  const port = portOf(server.url)
  const [pidFile, marker]: readonly [string, string] = (
    {
      redis: [`.services/redis-${port}/redis.pid`, `:${port}`],
      memcached: [`.services/memcached-${port}/memcached.pid`, `-p ${port} `],
      postgres: ['.services/pg/data/postmaster.pid', `-p ${port} `],
      mariadb: [`.services/mariadb-${port}/mariadb.pid`, `--port=${port} `],
    } as const
  )[server.kind]
  const pid = Number(readFileSync(`${root}/${pidFile}`, 'utf8').split('\n')[0]!.trim())
  // The pidfile must name the daemon serving this port (memcached writes it only after binding).
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  if (!command.includes(marker)) throw new Error(`${pidFile} names pid ${pid} (${command.trim()}), not the ${server.kind} on port ${port}`)
  return server.kind === 'postgres' ? [pid, ...childrenOf(pid)] : [pid]
}

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry))
    } catch {
      // Gone meanwhile.
    }
  }
  return children
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
