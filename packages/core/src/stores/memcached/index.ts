export { MemcachedStore, type MemcachedStoreOptions } from './memcached-store.js'
export { memcachedStoreFromUrl, type MemcachedStoreFromUrlOptions } from './from-url.js'
export type { MemcachedClient, MemcachedResponse } from './client.js'
export { MemcachedStatusError } from './protocol.js'
