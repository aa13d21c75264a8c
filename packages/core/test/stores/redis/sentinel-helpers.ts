import { Redis } from 'ioredis'
import { parseRedisUrl } from '../../../src/stores/redis/url.js'

/** The primary + replica + Sentinel trio `scripts/services.sh start sentinel` runs. */
export const SENTINEL_URL = process.env['CACHELOCK_TEST_REDIS_SENTINEL_URL'] ?? 'redis+sentinel://127.0.0.1:26391/cachelock-test'

const parsed = parseRedisUrl(SENTINEL_URL)
const sentinelNode = parsed.nodes[0]!
export const PRIMARY_NAME = parsed.sentinel!.name

/** Ask the Sentinel something (`SENTINEL <args>`), on a connection of its own. */
export async function askSentinel(...args: string[]): Promise<unknown> {
  const client = new Redis({ ...sentinelNode, maxRetriesPerRequest: 1, lazyConnect: true })
  try {
    return await client.call('SENTINEL', ...args)
  } finally {
    client.disconnect()
  }
}

/** The port of the node Sentinel currently names as the primary. */
export async function primaryPort(): Promise<number> {
  const [, port] = (await askSentinel('get-master-addr-by-name', PRIMARY_NAME)) as [string, string]
  return Number(port)
}

/** The ports of the replicas Sentinel knows and considers healthy. */
export async function replicaPorts(): Promise<number[]> {
  const replicas = (await askSentinel('replicas', PRIMARY_NAME)) as string[][]
  return replicas
    .map((fields) => Object.fromEntries(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : []))))
    .filter((replica) => !String(replica['flags']).includes('down') && !String(replica['flags']).includes('disconnected'))
    .map((replica) => Number(replica['port']))
}

/** A plain connection to one data node (to read a replica directly). */
export function node(port: number): Redis {
  return new Redis({ host: sentinelNode.host, port, maxRetriesPerRequest: 1 })
}
