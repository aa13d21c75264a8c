import type { RedisClient } from './client.js'
import { invalid } from '../../validate.js'
import { loadPeer } from '../peer.js'
import { checkRedisStoreOptions, type RedisStoreOptions } from './options.js'
import { parseRedisUrl, withoutStoreParameters, type ParsedRedisUrl } from './url.js'
import { RedisStore } from './redis-store.js'

const fromUrlOptionNames = new Set([
  'commandTimeoutMs',
  'fenceTtlFactor',
  'subscriberIdleMs',
  'waiterLivenessPolls',
  'handoffGraceMs',
  'waitReplicas',
  'waitTimeoutMs',
  'redisOptions',
  'clusterOptions',
])

/** Options of `redisStoreFromUrl`: the store's own, plus settings for the client it makes. */
export interface RedisStoreFromUrlOptions extends Omit<RedisStoreOptions, 'closeClient' | 'lastError'> {
  /**
   * ioredis `RedisOptions` merged over the defaults below (and, for a Cluster, used as its
   * `redisOptions`, the settings of each node connection). Typed loosely so that core needs no
   * ioredis types.
   * @default { maxRetriesPerRequest: 1, connectTimeout: 5000 }
   */
  redisOptions?: Record<string, unknown>
  /**
   * ioredis `ClusterOptions` for `redis+cluster://` URLs, merged over the defaults.
   * @default {}
   */
  clusterOptions?: Record<string, unknown>
}

/**
 * Defaults for a client made for the store. `maxRetriesPerRequest: 1` makes a call fail within one
 * reconnection attempt while Redis is unreachable (ioredis's default of 20 takes seconds; `null`
 * would wait forever); the offline queue stays on so calls made while the first connection is
 * being set up wait for it instead of failing.
 */
const REDIS_DEFAULTS = { maxRetriesPerRequest: 1, connectTimeout: 5000 }

/**
 * A `RedisStore` on a new ioredis client for `url`; `close()` ends that client too.
 *
 * - `redis://[user:password@]host[:port][/db][?options]` and `rediss://…` (TLS): one server,
 *   parsed by ioredis itself.
 * - `redis+cluster://[user:password@]host1:port1,host2:port2` and `rediss+cluster://…`: a Redis
 *   Cluster reached through any of the listed nodes (port 6379 when left out).
 * - `redis+sentinel://[user:password@]sentinel1:port1,sentinel2:port2/primaryName[/db]`: the
 *   primary that Redis Sentinel names, followed through failovers (port 26379 when left out).
 *   The credentials are the data nodes'; the Sentinels' own go in the query string as
 *   `sentinelUsername` / `sentinelPassword` (percent-encoded).
 *
 * Every Redis scheme takes `?waitReplicas=N&waitTimeoutMs=M` (the store options of that name;
 * options passed in code win).
 *
 * ioredis is an optional peer dependency: it is loaded here, when the first Redis store is made,
 * so that apps on other stores never need it installed.
 *
 * @param url a string, since `new URL()` refuses the comma-separated cluster form; a `URL` works
 *   for the single-server schemes.
 */
export function redisStoreFromUrl(url: string | URL, options: RedisStoreFromUrlOptions = {}): RedisStore {
  const href = typeof url === 'string' ? url : url.href
  const parsed = parseRedisUrl(href)
  // Everything is checked before a connection is opened: a refused call must leave none behind.
  checkRedisStoreOptions(options, fromUrlOptionNames)
  const { redisOptions, clusterOptions, ...given } = options
  const storeOptions = { ...parsed.options, ...given }
  checkRedisStoreOptions(storeOptions, fromUrlOptionNames)
  if (redisOptions !== undefined && (typeof redisOptions !== 'object' || redisOptions === null))
    throw invalid('options.redisOptions', 'an object', redisOptions)
  if (clusterOptions !== undefined && (typeof clusterOptions !== 'object' || clusterOptions === null))
    throw invalid('options.clusterOptions', 'an object', clusterOptions)
  const ioredis = loadIoredis()
  const nodeOptions: Record<string, unknown> = { ...REDIS_DEFAULTS, ...redisOptions }
  let client: RedisClient & { on(event: 'error', listener: (error: unknown) => void): unknown }
  if (parsed.cluster) {
    if (parsed.username) nodeOptions['username'] = parsed.username
    if (parsed.password) nodeOptions['password'] = parsed.password
    if (parsed.tls && nodeOptions['tls'] === undefined) nodeOptions['tls'] = {}
    client = new ioredis.Cluster(parsed.nodes, { ...clusterOptions, redisOptions: nodeOptions })
  } else if (parsed.sentinel) {
    client = new ioredis.Redis(sentinelOptions(parsed, parsed.sentinel, nodeOptions))
  } else {
    client = new ioredis.Redis(withoutStoreParameters(href), nodeOptions)
  }
  // The connection errors behind a failed call; listening also keeps ioredis from printing each
  // one while it reconnects.
  let lastError: unknown
  client.on('error', (error) => {
    lastError = error
  })
  return new RedisStore(client, { ...storeOptions, closeClient: true, lastError: () => lastError })
}

/**
 * ioredis options for a Sentinel URL. `failoverDetector` makes the client drop its connection as
 * soon as a Sentinel announces a new primary, instead of writing to a demoted one until it fails.
 */
function sentinelOptions(
  parsed: ParsedRedisUrl,
  sentinel: NonNullable<ParsedRedisUrl['sentinel']>,
  nodeOptions: Record<string, unknown>,
): Record<string, unknown> {
  const options: Record<string, unknown> = {
    sentinels: parsed.nodes,
    name: sentinel.name,
    db: sentinel.db,
    failoverDetector: true,
    ...nodeOptions,
  }
  if (parsed.username) options['username'] = parsed.username
  if (parsed.password) options['password'] = parsed.password
  if (sentinel.username) options['sentinelUsername'] = sentinel.username
  if (sentinel.password) options['sentinelPassword'] = sentinel.password
  return options
}

interface IoredisModule {
  Redis: new (
    urlOrOptions: string | Record<string, unknown>,
    options?: Record<string, unknown>,
  ) => RedisClient & { on(event: 'error', listener: (error: unknown) => void): unknown }
  Cluster: new (
    nodes: { host: string; port: number }[],
    options: Record<string, unknown>,
  ) => RedisClient & { on(event: 'error', listener: (error: unknown) => void): unknown }
}

function loadIoredis(): IoredisModule {
  return loadPeer<IoredisModule>('ioredis', 'redis://')
}
