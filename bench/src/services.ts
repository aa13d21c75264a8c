import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { repoRoot } from './paths.js'

const run = promisify(execFile)

export type Service = 'redis' | 'memcached' | 'postgres' | 'sentinel' | 'mariadb'

/** Where the loopback servers listen (from `scripts/services.sh env`). */
export interface ServiceUrls {
  redis: string
  /** One memcached server: a lock lives on one server anyway, and one keeps the round trip plain. */
  memcached: string
  postgres: string
  /** The primary + replica + Sentinel trio (`redis+sentinel://`). */
  sentinel: string
  mariadb: string
}

/**
 * Start the servers the selected cases need through the project's own script (which installs them
 * with apt when missing and is idempotent: servers already up are left alone), then read their URLs.
 * The Redis Cluster is not started: no case uses it.
 */
export async function startServices(services: readonly Service[]): Promise<ServiceUrls> {
  if (services.length > 0) {
    try {
      await run('bash', ['scripts/services.sh', 'start', ...services], { cwd: repoRoot })
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? ''
      throw new Error(`scripts/services.sh start ${services.join(' ')} failed:\n${stderr.trim()}`, { cause: error })
    }
  }
  const { stdout } = await run('bash', ['scripts/services.sh', 'env'], { cwd: repoRoot })
  const env: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const match = /^export (\w+)=(.*)$/.exec(line.trim())
    if (match) env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '')
  }
  const need = (name: string) => {
    const value = env[name]
    if (!value) throw new Error(`scripts/services.sh env did not print ${name}`)
    return value
  }
  return {
    redis: need('CACHELOCK_TEST_REDIS_URL'),
    memcached: need('CACHELOCK_TEST_MEMCACHED_URL_ONE'),
    postgres: need('CACHELOCK_TEST_PG_URL'),
    sentinel: need('CACHELOCK_TEST_REDIS_SENTINEL_URL'),
    mariadb: need('CACHELOCK_TEST_MYSQL_URL'),
  }
}
