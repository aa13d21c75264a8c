import type { RedisClient } from './client.js'
import { invalid } from '../../validate.js'
import { loadPeer } from '../peer.js'
import { checkRedisStoreOptions, type RedisStoreOptions } from './options.js'
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

/** A URL this module turns into a client: the scheme, credentials and `host:port` endpoints. */
export interface ParsedRedisUrl {
  cluster: boolean
  tls: boolean
  /** The data nodes' credentials (for a Sentinel URL: the primary's and replicas', not Sentinel's). */
  username: string
  password: string
  /** The servers named: the cluster's seed nodes, or for a Sentinel URL the Sentinels. */
  nodes: { host: string; port: number }[]
  /** Set for `redis+sentinel://` URLs. */
  sentinel?: {
    /** The monitored primary's name (`sentinel monitor <name> …`). */
    name: string
    db: number
    /** Credentials of the Sentinels themselves, from `sentinelUsername` / `sentinelPassword`. */
    username: string
    password: string
  }
  /** `waitReplicas` / `waitTimeoutMs` from the query string, any Redis scheme. */
  options: Pick<RedisStoreOptions, 'waitReplicas' | 'waitTimeoutMs'>
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

const EXPECTED =
  'a Redis URL: redis[s]://[user:password@]host[:port][/db], redis[s]+cluster://host:port,host:port ' +
  'or redis+sentinel://[user:password@]host:port,host:port/primaryName[/db]'

/** Query parameters that configure the store rather than the client. */
const STORE_PARAMETERS = ['waitReplicas', 'waitTimeoutMs'] as const
const SENTINEL_PARAMETERS = ['sentinelUsername', 'sentinelPassword']

/**
 * Split a Redis URL into what a client needs. Throws `InvalidLockArgumentError` naming `url` for
 * another scheme, a bad host or port, a database that is not a number (a cluster has only db 0),
 * or a cluster URL without nodes. Exported for `createStore`, which must not hand the cluster form
 * to `new URL()`.
 */
export function parseRedisUrl(href: string): ParsedRedisUrl {
  const match = /^(rediss?)(\+cluster|\+sentinel)?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?/i.exec(href)
  if (!match) throw invalid('url', EXPECTED, href)
  const [, scheme = '', variant = '', authority = '', path = '', query = ''] = match
  const cluster = variant.toLowerCase() === '+cluster'
  const isSentinel = variant.toLowerCase() === '+sentinel'
  const tls = scheme.toLowerCase() === 'rediss'
  if (isSentinel && tls) {
    throw invalid('url', `${EXPECTED} (TLS to Sentinel: hand RedisStore your own ioredis client with enableTLSForSentinelMode)`, href)
  }
  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? '' : authority.slice(0, at)
  const hosts = at === -1 ? authority : authority.slice(at + 1)
  const colon = userinfo.indexOf(':')
  const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), href)
  const password = colon === -1 ? '' : decode(userinfo.slice(colon + 1), href)
  const defaultPort = isSentinel ? 26379 : 6379
  const nodes = hosts
    .split(',')
    .filter((node) => node !== '')
    .map((node) => parseNode(node, href, defaultPort))
  // `redis://` alone means the local default server, as ioredis reads it; a cluster needs its nodes named.
  if (nodes.length === 0 && !cluster && !isSentinel) nodes.push({ host: 'localhost', port: 6379 })
  if (nodes.length === 0) throw invalid('url', `${EXPECTED} (a ${cluster ? 'cluster' : 'Sentinel'} URL names its nodes)`, href)
  const parameters = new URLSearchParams(query)
  const parsed: ParsedRedisUrl = { cluster, tls, username, password, nodes, options: storeParameters(parameters, href) }
  try {
    checkRedisStoreOptions(parsed.options)
  } catch (error) {
    throw invalid('url', `${EXPECTED} (${(error as Error).message.replace('options.', '')})`, href)
  }
  if (isSentinel) {
    parsed.sentinel = sentinelPath(path, parameters, href)
  } else {
    const db = path.replace(/^\//, '')
    if (db !== '' && (!/^\d+$/.test(db) || (cluster && db !== '0'))) {
      throw invalid('url', `${EXPECTED} (the database must be a number${cluster ? ', and 0 on a cluster' : ''})`, href)
    }
  }
  return parsed
}

/** `/primaryName[/db]` and the Sentinels' credentials; nothing else may be in a Sentinel URL's query. */
function sentinelPath(path: string, parameters: URLSearchParams, href: string): NonNullable<ParsedRedisUrl['sentinel']> {
  const [, rawName = '', db = '0', ...rest] = path.split('/')
  const name = decode(rawName, href)
  if (name === '' || rest.length > 0 || !/^\d+$/.test(db)) {
    throw invalid('url', `${EXPECTED} (a Sentinel URL's path is /primaryName or /primaryName/db)`, href)
  }
  for (const key of parameters.keys()) {
    if (!SENTINEL_PARAMETERS.includes(key) && !(STORE_PARAMETERS as readonly string[]).includes(key)) {
      throw invalid('url', `${EXPECTED} (query parameters: ${[...SENTINEL_PARAMETERS, ...STORE_PARAMETERS].join(', ')})`, href)
    }
  }
  return {
    name,
    db: Number(db),
    username: parameters.get('sentinelUsername') ?? '',
    password: parameters.get('sentinelPassword') ?? '',
  }
}

/** `waitReplicas` and `waitTimeoutMs` as numbers; `redisStoreFromUrl` checks their ranges with the other options. */
function storeParameters(parameters: URLSearchParams, href: string): ParsedRedisUrl['options'] {
  const options: ParsedRedisUrl['options'] = {}
  for (const key of STORE_PARAMETERS) {
    const value = parameters.get(key)
    if (value === null) continue
    if (!/^\d+$/.test(value)) throw invalid('url', `${EXPECTED} (${key} must be a whole number)`, href)
    options[key] = Number(value)
  }
  return options
}

/** The URL for ioredis, without the parameters that are the store's (ioredis would take them as its own options). */
function withoutStoreParameters(href: string): string {
  const query = href.indexOf('?')
  if (query === -1) return href
  const hash = href.indexOf('#', query)
  const parameters = new URLSearchParams(href.slice(query + 1, hash === -1 ? undefined : hash))
  for (const key of STORE_PARAMETERS) parameters.delete(key)
  const rest = parameters.toString()
  return href.slice(0, query) + (rest ? `?${rest}` : '') + (hash === -1 ? '' : href.slice(hash))
}

function decode(text: string, href: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw invalid('url', `${EXPECTED} (bad percent-encoding in ${JSON.stringify(text)})`, href)
  }
}

function parseNode(node: string, href: string, defaultPort: number): { host: string; port: number } {
  // `[::1]:7000` for IPv6, `host:7000`, or a bare host on the default port.
  const match = /^(\[[0-9a-f:.]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/i.exec(node)
  const port = Number(match?.[2] ?? defaultPort)
  if (!match || port < 1 || port > 65_535) throw invalid('url', `${EXPECTED} (bad host:port ${JSON.stringify(node)})`, href)
  const host = match[1] ?? ''
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port }
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
