import { randomBytes } from 'node:crypto'
import memjs from 'memjs'
import type { AcquireRequest } from '../../../src/store.js'
import { memcachedStoreFromUrl, type MemcachedStoreFromUrlOptions } from '../../../src/stores/memcached/from-url.js'
import { parseMemcachedUrl } from '../../../src/stores/memcached/url.js'
import type { MemcachedStore } from '../../../src/stores/memcached/memcached-store.js'
import { BinaryProtocol } from '../../../src/stores/memcached/protocol.js'

/** The servers `scripts/services.sh start` runs (see `scripts/services.sh env`). */
export const URL_ONE = process.env['CACHELOCK_TEST_MEMCACHED_URL_ONE'] ?? 'memcached://127.0.0.1:11311'
export const URL_TWO = process.env['CACHELOCK_TEST_MEMCACHED_URL'] ?? 'memcached://127.0.0.1:11311,127.0.0.1:11312'

/** Every store test runs on one server and on a two-server client (keys spread by memjs's hash). */
export const SETUPS = [
  ['one server', URL_ONE],
  ['two servers', URL_TWO],
] as const

const stores: MemcachedStore[] = []
const clients: memjs.Client[] = []

/** A store on its own client (its own connections, like another app server); closed by `closeAll()`. */
export function openStore(url: string, options: MemcachedStoreFromUrlOptions = {}): MemcachedStore {
  const store = memcachedStoreFromUrl(url, options)
  stores.push(store)
  return store
}

/** A memjs client of the app's own, closed by `closeAll()`. */
export function appClient(url: string): memjs.Client {
  const { servers } = parseMemcachedUrl(url)
  const client = memjs.Client.create(servers.map(({ host, port }) => `${host}:${port}`).join(','), { logger: { log: () => undefined } })
  clients.push(client)
  return client
}

/**
 * One raw protocol per server of `url`, each on a single-server client, to look at items behind
 * the store's back and see which server holds them.
 */
export function rawServers(url: string): BinaryProtocol[] {
  return parseMemcachedUrl(url).servers.map(({ host, port }) => new BinaryProtocol(appClient(`memcached://${host}:${port}`)))
}

/** Which servers of `servers` hold `key` (indexes). */
export async function serversHolding(servers: BinaryProtocol[], key: string): Promise<number[]> {
  const items = await Promise.all(servers.map((server) => server.get(key, key)))
  return items.flatMap((item, index) => (item ? [index] : []))
}

export async function closeAll(): Promise<void> {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  for (const client of clients.splice(0)) client.close()
}

/** A key no other test uses. */
export function uniqueKey(label = 'k'): string {
  return `test:memcached:${label}:${randomBytes(6).toString('hex')}`
}

/** A fresh owner token, like the manager makes. */
export function owner(clientId = 'c0'): string {
  return `${clientId}:${randomBytes(16).toString('hex')}`
}

export function request(key: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest {
  return { key, owner: owner(), mode: 'exclusive', ttlMs: 30_000, clientId: 'c0', waiting: false, pollMs: 100, ...overrides }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Poll until `condition` holds; fails after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}
