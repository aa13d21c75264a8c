import { MAX_TIMER_MS, invalid } from '../../validate.js'

// The memcached URL grammar, apart from the store: `createStore()` checks a URL with it before it
// loads the store's module, so a bad URL is refused at once, synchronously.

/** A server from the URL's comma-separated list. */
export interface MemcachedServerAddress {
  host: string
  port: number
}

export interface ParsedMemcachedUrl {
  servers: MemcachedServerAddress[]
  username?: string
  password?: string
  timeoutMs?: number
  connectTimeoutMs?: number
}

const DEFAULT_PORT = 11211
const QUERY_OPTIONS = { timeout: 'timeoutMs', connectTimeout: 'connectTimeoutMs' } as const
const EXPECTED = 'a memcached URL: memcached://[user:password@]host[:port][,host[:port]...][?timeout=ms&connectTimeout=ms]'
// WHATWG URL parsing refuses several hosts in one authority, so the URL is taken apart here.
const URL_SHAPE = /^memcached:\/\/(?:([^@/?#]*)@)?([^/?#]*)\/?(?:\?([^#]*))?$/i
const SERVER_SHAPE = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/i

/** Take a `memcached://` URL apart. Throws `InvalidLockArgumentError` naming `url` for anything else. */
export function parseMemcachedUrl(url: string | URL): ParsedMemcachedUrl {
  const text = url instanceof URL ? url.href : url
  const match = typeof text === 'string' ? URL_SHAPE.exec(text) : null
  if (!match) throw invalid('url', EXPECTED, url)
  const [, userinfo, hostList = '', query = ''] = match
  const servers = (hostList === '' ? [`localhost:${DEFAULT_PORT}`] : hostList.split(',')).map((server) => {
    const parts = SERVER_SHAPE.exec(server)
    const port = Number(parts?.[3] ?? DEFAULT_PORT)
    if (!parts || port < 1 || port > 65_535) throw invalid('url', `${EXPECTED} (bad server ${JSON.stringify(server)})`, url)
    return { host: decodeURIComponent(parts[1] ?? parts[2] ?? ''), port }
  })
  const parsed: ParsedMemcachedUrl = { servers }
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':')
    parsed.username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon))
    if (colon !== -1) parsed.password = decodeURIComponent(userinfo.slice(colon + 1))
  }
  for (const [name, value] of new URLSearchParams(query)) {
    const option = QUERY_OPTIONS[name as keyof typeof QUERY_OPTIONS]
    const ms = Number(value)
    if (!option) throw invalid('url', `${EXPECTED} (unknown parameter ${JSON.stringify(name)})`, url)
    if (value === '' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_MS)
      throw invalid('url', `${EXPECTED} (${name} must be milliseconds > 0)`, url)
    parsed[option] = ms
  }
  return parsed
}
