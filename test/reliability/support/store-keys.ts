import { databaseKeys, isDatabaseUrl } from './database-keys.js'
import { memcachedKeys } from './memcached-keys.js'
import { primaries, redisClient } from './redis-clients.js'
import { prefixPattern, scanKeys } from './redis-keys.js'

/**
 * Every key the store at `url` holds under `prefix`, read from the server itself (SCAN on Redis
 * and on each Cluster primary; `lru_crawler metadump` on memcached; the locks table of a
 * database), not through the library.
 * Opens and closes its own connection.
 */
export async function keysUnder(url: string, prefix: string): Promise<string[]> {
  if (isDatabaseUrl(url)) return databaseKeys(url, prefix)
  if (url.startsWith('memcached://')) return (await memcachedKeys(url)).filter((key) => key.startsWith(prefix))
  const client = redisClient(url)
  try {
    const perNode = await Promise.all((await primaries(client)).map((node) => scanKeys(node, prefixPattern(prefix))))
    return perNode.flat().sort()
  } finally {
    client.disconnect()
  }
}
