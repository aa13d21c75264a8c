import { createHash } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import type { RedisClient } from '@cachelock/core/redis'

/**
 * ioredis clients for tests that look at Redis directly: a standalone client or a Cluster, and a
 * way to see every script the store runs.
 */
export function redisClient(url: string): Redis | Cluster {
  if (!url.startsWith('redis+cluster://')) return new Redis(url, { maxRetriesPerRequest: 1 })
  const nodes = url
    .slice('redis+cluster://'.length)
    .split(',')
    .map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1]) }))
  return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } })
}

/** The primaries to ask about server-wide state (SCRIPT EXISTS, SCAN): the client itself when standalone. */
export async function primaries(client: Redis | Cluster): Promise<Redis[]> {
  if (client instanceof Redis) return [client]
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
  return client.nodes('master')
}

/**
 * `client` as the store sees it, recording the SHA-1 of every script it runs: the SHA of each
 * EVALSHA, and the SHA of each EVAL's source. A store whose scripts never depend on their input
 * runs the same handful of SHAs whatever the lock names.
 */
export function recordingScripts(client: Redis | Cluster, shas: Set<string>): RedisClient {
  const evalsha = (sha: string, ...rest: unknown[]) => {
    shas.add(sha)
    return (client.evalsha as (...args: unknown[]) => Promise<unknown>)(sha, ...rest)
  }
  const evalSource = (source: string, ...rest: unknown[]) => {
    shas.add(createHash('sha1').update(source).digest('hex'))
    return (client.eval as (...args: unknown[]) => Promise<unknown>)(source, ...rest)
  }
  return new Proxy(client, {
    get(target, property) {
      if (property === 'evalsha') return evalsha
      if (property === 'eval') return evalSource
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}
