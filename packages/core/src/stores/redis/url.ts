import { invalid } from '../../validate.js'
import { checkRedisStoreOptions, type RedisStoreOptions } from './options.js'

// The Redis URL grammar, apart from the store: `createStore()` checks a URL with it before it
// loads the store's module, so a bad URL is refused at once, synchronously.

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

const EXPECTED =
  'a Redis URL: redis[s]://[user:password@]host[:port][/db], redis[s]+cluster://host:port,host:port ' +
  'or redis+sentinel://[user:password@]host:port,host:port/primaryName[/db]'

/** Query parameters that configure the store rather than the client. */
const STORE_PARAMETERS = ['waitReplicas', 'waitTimeoutMs'] as const
const SENTINEL_PARAMETERS = ['sentinelUsername', 'sentinelPassword']

/**
 * Split a Redis URL into what a client needs. Throws `InvalidLockArgumentError` naming `url` for
 * another scheme, a bad host or port, a database that is not a number (a cluster has only db 0),
 * or a cluster URL without nodes. `createStore` calls it before it loads the store, which must not
 * hand the cluster form to `new URL()`.
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
export function withoutStoreParameters(href: string): string {
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
