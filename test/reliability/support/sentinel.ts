import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { parseRedisUrl } from '../../../packages/core/src/stores/redis/url.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../..', import.meta.url))

/** The primary + replica + Sentinel trio of `scripts/services.sh start sentinel`. */
export const SENTINEL_URL = process.env['CACHELOCK_TEST_REDIS_SENTINEL_URL'] ?? 'redis+sentinel://127.0.0.1:26391/cachelock-test'
const parsed = parseRedisUrl(SENTINEL_URL)
const sentinel = parsed.nodes[0]!
const primaryName = parsed.sentinel!.name

/** `SENTINEL …` asked of the trio's Sentinel on a connection of its own. */
export async function ask(...args: string[]): Promise<unknown> {
  const client = new Redis({ ...sentinel, maxRetriesPerRequest: 1, lazyConnect: true })
  try {
    return await client.call('SENTINEL', ...args)
  } finally {
    client.disconnect()
  }
}

/** The two data nodes' ports (services.sh puts them right after Sentinel's). */
export const NODE_PORTS = [sentinel.port + 1, sentinel.port + 2]

/** The port of the node Sentinel names as the primary right now. */
export async function primaryPort(): Promise<number> {
  const [, port] = (await ask('get-master-addr-by-name', primaryName)) as [string, string]
  return Number(port)
}

/** The data node's pid, from services.sh's pidfile, checked against the process's command line. */
function pidOf(port: number): number {
  const pidFile = `${root}/.services/sentinel-node-${port}/redis.pid`
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  if (!command.includes(`:${port}`)) throw new Error(`${pidFile} names pid ${pid} (${command.trim()}), not the node on port ${port}`)
  return pid
}

/** The state letter of a process (R running, S sleeping, T stopped, Z zombie), or undefined when gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return undefined
  }
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * SIGSTOP a data node (its replication link stops; everyone's connections stay open), and return a
 * function that resumes it. Resolves once the kernel reports it stopped.
 */
export async function freeze(port: number): Promise<() => void> {
  const pid = pidOf(port)
  process.kill(pid, 'SIGSTOP')
  const thaw = () => {
    if (processState(pid) !== undefined) process.kill(pid, 'SIGCONT')
  }
  try {
    await until(() => processState(pid) === 'T', 5000, `node :${port} to stop`)
  } catch (error) {
    thaw()
    throw error
  }
  return thaw
}

/**
 * Close the primary's replication connections (`CLIENT KILL TYPE replica`): what it writes from now
 * on reaches no replica until one reconnects, and a frozen replica cannot.
 */
export async function cutReplicationLinks(primary: number): Promise<void> {
  const client = new Redis({ host: sentinel.host, port: primary, maxRetriesPerRequest: 1 })
  try {
    await client.call('CLIENT', 'KILL', 'TYPE', 'replica')
  } finally {
    client.disconnect()
  }
}

/** SIGKILL a data node: no shutdown, no last replication. Resolves once it is gone. */
export async function kill(port: number): Promise<void> {
  const pid = pidOf(port)
  process.kill(pid, 'SIGKILL')
  await until(
    () => {
      const state = processState(pid)
      return state === undefined || state === 'Z'
    },
    5000,
    `node :${port} to die`,
  )
}

/** Wait until Sentinel names another primary than `old`, and that node answers as a primary. */
export async function promoted(old: number, timeoutMs: number): Promise<number> {
  let port = old
  await until(
    async () => {
      port = await primaryPort().catch(() => old)
      if (port === old) return false
      const client = new Redis({ host: sentinel.host, port, maxRetriesPerRequest: 1, lazyConnect: true })
      try {
        return ((await client.call('ROLE')) as unknown[])[0] === 'master'
      } catch {
        return false
      } finally {
        client.disconnect()
      }
    },
    timeoutMs,
    `Sentinel to promote a replica of :${old}`,
  )
  return port
}

/** `scripts/services.sh start sentinel`: bring a killed node back as the replica of the current primary. */
export async function restoreTrio(): Promise<void> {
  const env = { ...process.env, CACHELOCK_TEST_SENTINEL_BASE_PORT: String(sentinel.port) }
  await run('bash', ['scripts/services.sh', 'start', 'sentinel'], { cwd: root, env, timeout: 120_000 })
}
