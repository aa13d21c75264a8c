import type { RedisClient } from './client.js'
import { loadPeer } from '../peer.js'
import { RedisStore, type RedisStoreOptions } from './redis-store.js'

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
  const { redisOptions, clusterOptions, ...storeOptions } = options
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

/**
 * Split a Redis URL into what a client needs. Throws a `TypeError` naming the URL for a scheme
 * other than `redis`, `rediss`, `redis+cluster`, `rediss+cluster`, or a cluster URL without nodes.
 * Exported for `createStore`, which must not hand the cluster form to `new URL()`.
 */
export function parseRedisUrl(href: string): ParsedRedisUrl {
  const match = /^(rediss?)(\+cluster)?:\/\/([^/?#]*)/i.exec(href)
  if (!match) throw new TypeError(`Expected a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL, got ${JSON.stringify(href)}`)
  const [, scheme = '', cluster, authority = ''] = match
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
  if (nodes.length === 0) throw new TypeError(`Expected at least one host in the Redis URL ${JSON.stringify(href)}`)
  return { cluster: cluster !== undefined, tls: scheme.toLowerCase() === 'rediss', username, password, nodes }
}

function parseNode(node: string, href: string): { host: string; port: number } {
  // `[::1]:7000` for IPv6, `host:7000`, or a bare host on the default port.
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(node)
  if (!match) throw new TypeError(`Expected host:port in the Redis URL ${JSON.stringify(href)}, got ${JSON.stringify(node)}`)
  const [, host = '', port] = match
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: port === undefined ? 6379 : Number(port) }
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
