import { createStore, type LockStore } from '../index.js'
import { memcachedStoreFromUrl } from '../stores/memcached/index.js'
import { redisStoreFromUrl } from '../stores/redis/index.js'
import { UsageError } from './args.js'

/**
 * A store for one CLI run. Redis and memcached clients are made to fail at once when the server is
 * unreachable (no reconnection, short connect timeouts) rather than retry as an app's would; any
 * other scheme gets its store's defaults, and the CLI's deadline bounds the rest.
 */
export function openStore(url: string, timeoutMs: number): { store: LockStore; lastError: () => unknown } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 'memory' || scheme === 'open') {
    throw new UsageError(`${scheme}:// is a store inside one process: the CLI would only ever see its own, empty one`)
  }
  const connectTimeout = Math.min(timeoutMs, 2000)
  if (scheme?.startsWith('redis')) {
    const store = redisStoreFromUrl(url, {
      commandTimeoutMs: timeoutMs,
      // disconnectTimeout: a connection that failed is abandoned at once instead of after 2 s.
      redisOptions: {
        connectTimeout,
        disconnectTimeout: 100,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        sentinelRetryStrategy: () => null,
      },
      clusterOptions: { clusterRetryStrategy: () => null },
    })
    // With no reconnection, calls fail with "Connection is closed"; the reason is the client's last error.
    let lastError: unknown
    ;(store.client as unknown as { on(event: 'error', listener: (error: unknown) => void): void }).on('error', (error) => {
      lastError = error
    })
    return { store, lastError: () => lastError }
  }
  if (scheme === 'memcached') {
    return {
      store: memcachedStoreFromUrl(url, { timeoutMs: Math.min(timeoutMs, 1000), connectTimeoutMs: connectTimeout, maxAttempts: 1 }),
      lastError: () => undefined,
    }
  }
  return { store: createStore(url), lastError: () => undefined }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@').replace(/([?&](?:sentinel)?[pP]assword=)[^&#]*/g, '$1***')
}
