import memjs from 'memjs'

/**
 * A memjs client for one server, set up the way `memcachedStoreFromUrl` sets up its own (failover
 * off, one retry), so the raw round trip and the store run on identical clients: the same one.
 */
export function openMemcached(url: string): memjs.Client {
  const address = url.replace(/^memcached:\/\//, '').replace(/\/.*$/, '')
  return memjs.Client.create(address, { failover: false, retries: 2, retry_delay: 0.1, logger: { log: () => undefined } })
}

/** The server's version, from its stats (memjs 1.3 has no `version` call). */
export function memcachedVersion(client: memjs.Client): Promise<string> {
  return new Promise((resolve) => {
    client.stats((error, _server, stats) => resolve(error || !stats?.['version'] ? 'unknown' : stats['version']))
  })
}

/** One round trip: a `get` (of a key nobody sets, so the reply is a small miss). */
export function memcachedRoundTrip(client: memjs.Client, key: string): Promise<unknown> {
  return client.get(key)
}
