import { storableKey } from '../../keys.js'

/** A Redis key or channel: a string, or the WTF-8 bytes of a key that is not well-formed UTF-16. */
export type RedisKey = string | Buffer

/**
 * The Redis keys of one lock. Every one of them begins with the same hash tag, so a script that
 * touches several of them never fails with CROSSSLOT on a Cluster.
 *
 * | key | type | holds | lives |
 * |---|---|---|---|
 * | `{T}:x` | string | the exclusive holder's owner token | the grant's ttl (`PX`) |
 * | `{T}:s` | sorted set | shared holders, scored by expiry (Redis ms) | until the last shared holder expires |
 * | `{T}:f` | string | the last fencing token | `fenceTtlFactor` (10) × ttl after the last grant |
 * | `{T}:q` | sorted set | managers waiting in turn, scored by their first refusal (Redis µs) | while a waiter keeps asking |
 * | `{T}:l` | sorted set | managers that asked recently and stores subscribed to `{T}:w`, scored by when to forget them | while a waiter keeps asking or listening |
 * | `{T}:p` | hash | per queued manager, the exclusive request it parked (`fenceTtl:owner`), or `!owner` once a release handed it the lock | while a waiter keeps asking |
 * | `{T}:r` | sorted set | managers waiting for the lock, for `query()` (`x:clientId` / `s:clientId` by mode), scored by when to forget them | while a waiter keeps asking |
 *
 * and the pub/sub channel `{T}:w` (after the client's `keyPrefix`), where releases are announced.
 */
export interface LockKeys {
  exclusive: RedisKey
  shared: RedisKey
  fence: RedisKey
  queue: RedisKey
  alive: RedisKey
  parked: RedisKey
  waiters: RedisKey
  channel: RedisKey
}

/**
 * The tag `T` of a store key. Redis hashes only the text between the first `{` and the next `}`
 * (the whole key when that text is empty), so the tag must contain no `}` and never be empty,
 * whatever the store key holds. `%` and `}` are percent-escaped (`%25`, `%7D`), which keeps the
 * mapping injective and ordinary keys readable (`lock:order:42` → `{lock:order:42}:x`); the
 * empty key becomes `%00`, which no escaped key can produce (every `%` it emits is followed by
 * `25` or `7D`).
 *
 * A `keyPrefix` on the client is prepended by the client to every key. When the prefix holds a
 * complete tag (`{app}:`) every lock shares that slot; when it holds a `{` with no `}` after it,
 * the tag runs into `{T`: either way all keys of one lock still share one slot. Only a prefix whose
 * first brace pair is the empty `{}` defeats hashing, and then every multi-key command fails the
 * same way.
 */
export function hashTag(key: string): string {
  if (key === '') return '%00'
  if (!key.includes('}') && !key.includes('%')) return key
  return key.replace(/[%}]/g, (char) => (char === '%' ? '%25' : '%7D'))
}

/** The keys of the lock stored under `key`. `channelPrefix` is the client's `keyPrefix`, which the client adds to keys but not to channels. */
export function lockKeys(key: string, channelPrefix: RedisKey): LockKeys {
  const base = `{${hashTag(key)}}:`
  const channel = storableKey(`${base}w`)
  return {
    exclusive: storableKey(`${base}x`),
    shared: storableKey(`${base}s`),
    fence: storableKey(`${base}f`),
    queue: storableKey(`${base}q`),
    alive: storableKey(`${base}l`),
    parked: storableKey(`${base}p`),
    waiters: storableKey(`${base}r`),
    channel: channelPrefix.length === 0 ? channel : prefixed(channelPrefix, channel),
  }
}

function prefixed(prefix: RedisKey, key: RedisKey): RedisKey {
  if (typeof prefix === 'string' && typeof key === 'string') return prefix + key
  return Buffer.concat([Buffer.from(prefix), Buffer.from(key)])
}

/** A map key for a channel, the same whether the channel arrives as a string or as bytes. */
export function channelId(channel: RedisKey): string {
  return (typeof channel === 'string' ? Buffer.from(channel) : channel).toString('latin1')
}
