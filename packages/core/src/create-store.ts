import type { LockStore } from './store.js'
import { MemoryStore } from './stores/memory/memory-store.js'
import { OpenStore } from './stores/open/open-store.js'
import { describeValue, invalid } from './validate.js'

type StoreFactory = (url: URL) => LockStore

const factories = new Map<string, StoreFactory>([
  ['memory:', () => new MemoryStore()],
  ['open:', () => new OpenStore()],
])

const schemes = () => [...factories.keys()].map((scheme) => `${scheme}//`).join(', ')

/**
 * A store from a URL, for configuration by environment (`CACHELOCK_URL`):
 *
 * | URL | store |
 * |---|---|
 * | `memory://` | `MemoryStore` (this process only) |
 * | `open://` | `OpenStore` (never locks; tests) |
 *
 * Throws `InvalidLockArgumentError` for anything else.
 */
export function createStore(url: string | URL): LockStore {
  let parsed: URL
  try {
    parsed = url instanceof URL ? url : new URL(url)
  } catch {
    throw invalid('url', `a store URL (${schemes()})`, url)
  }
  const factory = factories.get(parsed.protocol)
  if (!factory) {
    throw invalid('url', `a store URL with a known scheme (${schemes()})`, typeof url === 'string' ? url : describeValue(url.href))
  }
  return factory(parsed)
}
