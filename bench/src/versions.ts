import { memcachedVersion, openMemcached } from './clients/memcached.js'
import { openRedis, redisVersion } from './clients/redis.js'
import type { MachineInfo } from './results.js'
import type { Service, ServiceUrls } from './services.js'

/** Versions of the servers this run uses (PostgreSQL's is read by the case that connects to it). */
export async function probeVersions(urls: ServiceUrls, services: readonly Service[]): Promise<Partial<MachineInfo>> {
  const versions: Partial<MachineInfo> = {}
  if (services.includes('redis')) {
    const redis = await openRedis(urls.redis)
    versions.redis = await redisVersion(redis)
    redis.disconnect()
  }
  if (services.includes('memcached')) {
    const client = openMemcached(urls.memcached)
    versions.memcached = await memcachedVersion(client)
    client.close()
  }
  return versions
}
