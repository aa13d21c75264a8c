import type { RedisClient } from './client.js'
import { invalid } from '../../validate.js'
import { loadPeer } from '../peer.js'
import { RedisStore, checkRedisStoreOptions, type RedisStoreOptions } from './redis-store.js'

const fromUrlOptionNames = new Set([
  'commandTimeoutMs',
  'fenceTtlFactor',
  'subscriberIdleMs',
  'waiterLivenessPolls',
  'handoffGraceMs',
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
  username: string
  password: string
  nodes: { host: string; port: number }[]
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
  const { redisOptions, clusterOptions, ...storeOptions } = options
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
  } else {
    client = new ioredis.Redis(href, nodeOptions)
  }
  // The connection errors behind a failed call; listening also keeps ioredis from printing each
  // one while it reconnects.
  let lastError: unknown
  client.on('error', (error) => {
    lastError = error
  })
  return new RedisStore(client, { ...storeOptions, closeClient: true, lastError: () => lastError })
}

const EXPECTED = 'a Redis URL: redis[s]://[user:password@]host[:port][/db] or redis[s]+cluster://host:port,host:port'

/**
 * Split a Redis URL into what a client needs. Throws `InvalidLockArgumentError` naming `url` for
 * another scheme, a bad host or port, a database that is not a number (a cluster has only db 0),
 * or a cluster URL without nodes. Exported for `createStore`, which must not hand the cluster form
 * to `new URL()`.
 */
export function parseRedisUrl(href: string): ParsedRedisUrl {
  const match = /^(rediss?)(\+cluster)?:\/\/([^/?#]*)(\/[^?#]*)?/i.exec(href)
  if (!match) throw invalid('url', EXPECTED, href)
  const [, scheme = '', cluster, authority = '', path = ''] = match
  const db = path.replace(/^\//, '')
  if (db !== '' && (!/^\d+$/.test(db) || (cluster !== undefined && db !== '0'))) {
    throw invalid('url', `${EXPECTED} (the database must be a number${cluster === undefined ? '' : ', and 0 on a cluster'})`, href)
  }
  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? '' : authority.slice(0, at)
  const hosts = at === -1 ? authority : authority.slice(at + 1)
  const colon = userinfo.indexOf(':')
  const username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon))
  const password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1))
  const nodes = hosts
    .split(',')
    .filter((node) => node !== '')
    .map((node) => parseNode(node, href))
  // `redis://` alone means the local default server, as ioredis reads it; a cluster needs its nodes named.
  if (nodes.length === 0 && cluster === undefined) nodes.push({ host: 'localhost', port: 6379 })
  if (nodes.length === 0) throw invalid('url', `${EXPECTED} (a cluster URL names its nodes)`, href)
  return { cluster: cluster !== undefined, tls: scheme.toLowerCase() === 'rediss', username, password, nodes }
}

function parseNode(node: string, href: string): { host: string; port: number } {
  // `[::1]:7000` for IPv6, `host:7000`, or a bare host on the default port.
  const match = /^(\[[0-9a-f:.]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/i.exec(node)
  const port = Number(match?.[2] ?? 6379)
  if (!match || port < 1 || port > 65_535) throw invalid('url', `${EXPECTED} (bad host:port ${JSON.stringify(node)})`, href)
  const host = match[1] ?? ''
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port }
}

interface IoredisModule {
  Redis: new (
    url: string,
    options: Record<string, unknown>,
  ) => RedisClient & { on(event: 'error', listener: (error: unknown) => void): unknown }
  Cluster: new (
    nodes: { host: string; port: number }[],
    options: Record<string, unknown>,
  ) => RedisClient & { on(event: 'error', listener: (error: unknown) => void): unknown }
}

function loadIoredis(): IoredisModule {
  return loadPeer<IoredisModule>('ioredis', 'redis://')
}
