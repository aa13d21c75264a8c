import type { Redis } from 'ioredis'

/**
 * Listing a Redis server's keys behind the library's back. The store's keys for a lock named N
 * under prefix P are `{P+N}:x|s|f|q|l` (see `stores/redis/keys.ts`), so everything a test did
 * under its prefix matches `{P*`.
 */

/** Every key matching `pattern` on one server (SCAN, never KEYS), as exact bytes. */
export async function scanKeyBytes(redis: Redis, pattern: string): Promise<Buffer[]> {
  const keys: Buffer[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next.toString()
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** The same, as strings (UTF-8; fine for keys made of well-formed names). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  return (await scanKeyBytes(redis, pattern)).map((key) => key.toString()).sort()
}

/** The glob for every key the Redis store makes under `prefix` (glob characters in it escaped). */
export function prefixPattern(prefix: string): string {
  return `{${prefix.replace(/[*?[\]\\]/g, (char) => `\\${char}`)}*`
}
