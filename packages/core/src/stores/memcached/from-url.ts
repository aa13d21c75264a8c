import type * as Memjs from 'memjs'
import { loadPeer } from '../peer.js'
import { checkDuration, checkOptions, invalid } from '../../validate.js'
import { parseMemcachedUrl } from './url.js'

const fromUrlOptionNames = new Set(['timeoutMs', 'connectTimeoutMs', 'logger', 'maxAttempts'])
import { MemcachedStore, type MemcachedStoreOptions } from './memcached-store.js'
import { lockServer } from './server.js'

export interface MemcachedStoreFromUrlOptions extends Omit<MemcachedStoreOptions, 'closeClient'> {
  /**
   * How long a server may take to answer one request, in ms, before the request fails (and is
   * retried once). Also settable as `?timeout=` in the URL; this option wins.
   * @default 500
   */
  timeoutMs?: number
  /**
   * How long connecting to a server may take, in ms. Also settable as `?connectTimeout=`.
   * @default 1000
   */
  connectTimeoutMs?: number
  /**
   * Where memjs reports a server that failed (the failure also rejects the operation, so the
   * store's caller hears of it either way).
   * @default a logger that discards everything
   */
  logger?: { log(...args: unknown[]): void }
}

/**
 * A `MemcachedStore` on a memjs client opened for it from a URL such as
 * `memcached://h1:11211,h2:11211` (what `createStore` and `CACHELOCK_URL` use). The store's
 * `close()` closes that client.
 *
 * memjs is loaded here, on first use, so apps without memcached never need it installed. The
 * client is set up for locks: failover off (it would move a lock's keys to a server where the lock
 * is not), short timeouts, one retry, so a dead server fails an operation within about two seconds.
 */
export function memcachedStoreFromUrl(url: string | URL, options: MemcachedStoreFromUrlOptions = {}): MemcachedStore {
  const parsed = parseMemcachedUrl(url)
  // Everything is checked before the client exists: memjs would throw from inside a timer later.
  const given = checkOptions(options, 'options', fromUrlOptionNames) as MemcachedStoreFromUrlOptions
  const ms = (value: number | undefined, argument: string) => (value === undefined ? undefined : checkDuration(value, argument))
  const timeoutMs = ms(given.timeoutMs, 'options.timeoutMs') ?? parsed.timeoutMs ?? 500
  const connectTimeoutMs = ms(given.connectTimeoutMs, 'options.connectTimeoutMs') ?? parsed.connectTimeoutMs ?? 1000
  if (given.maxAttempts !== undefined && (!Number.isInteger(given.maxAttempts) || given.maxAttempts < 1)) {
    throw invalid('options.maxAttempts', 'an integer >= 1', given.maxAttempts)
  }
  if (given.logger !== undefined && typeof given.logger?.log !== 'function')
    throw invalid('options.logger', 'an object with a log() method', given.logger)
  const memjs = loadMemjs()
  const serverOptions: Memjs.ServerOptions = {
    // memjs counts in seconds.
    timeout: timeoutMs / 1000,
    conntimeout: connectTimeoutMs / 1000,
    // Probes find a peer that vanished while the connection sat idle between lock operations.
    keepAlive: true,
  }
  // memjs's Server, with its connection events tied to their own socket (see `server.ts`).
  const servers = parsed.servers.map(({ host, port }) => lockServer(memjs, host, port, parsed.username, parsed.password, serverOptions))
  const client = new memjs.Client(servers, {
    failover: false,
    // memjs's `retries` counts tries: two is one retry, after `retry_delay` seconds.
    retries: 2,
    retry_delay: 0.1,
    logger: options.logger ?? { log: () => undefined },
  })
  const storeOptions: MemcachedStoreOptions = { closeClient: true }
  if (options.maxAttempts !== undefined) storeOptions.maxAttempts = options.maxAttempts
  return new MemcachedStore(client, storeOptions)
}

function loadMemjs(): typeof Memjs {
  return loadPeer<typeof Memjs>('memjs', 'memcached://')
}
