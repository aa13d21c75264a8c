import { Redis } from 'ioredis'

/**
 * An ioredis client the way an app would make one: defaults, except that a dead server fails a
 * command at once instead of after 20 reconnection attempts (a bench should stop, not hang).
 * `lazyConnect` + `connect()` so the connection is up before anything is timed.
 */
export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  return redis
}

/** `redis_version` from `INFO server`. */
export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server')
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
}
