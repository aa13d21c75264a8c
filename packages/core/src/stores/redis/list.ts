import { globLiteral, globMatcher, parseGlob } from '../../glob.js'
import { keyBytes, keyFromBytes } from '../../keys.js'
import type { Holder, LockListing } from '../../store.js'
import { hashTag, lockKeys, type RedisKey } from './keys.js'

/**
 * The client calls `RedisStore.list` needs beyond its scripts: ioredis's `scanBuffer` and `get`,
 * and on a Cluster `nodes('master')`, whose connections are scanned one by one.
 */
export interface RedisScanClient {
  scanBuffer(cursor: string | Buffer, ...args: (string | Buffer | number)[]): Promise<[Buffer | string, Buffer[]]>
  get(key: RedisKey): Promise<string | null>
  nodes?(role: 'master'): RedisScanClient[]
}

/** What listing needs from the store: its client, the client's `keyPrefix`, and its `holders`. */
export interface ListSource {
  client: RedisScanClient
  keyPrefix: string
  holders(key: string): Promise<Holder[]>
}

const SCAN_COUNT = 1000

/**
 * The held locks under `prefix` whose name matches `pattern` (see `LockStore.list`). A lock lives at
 * `{T}:x` (exclusive) or `{T}:s` (shared), `T` being the escaped store key (`keys.ts`), so one
 * `SCAN … MATCH` per primary finds them; the pattern narrows the `MATCH` as far as it safely can
 * and every name is then checked exactly. A pattern without wildcards looks up its one lock.
 */
export async function* listLocks(source: ListSource, prefix: string, pattern = '*'): AsyncIterable<LockListing> {
  const literal = globLiteral(pattern)
  if (literal !== undefined) {
    const listing = await inspect(source, prefix + literal)
    if (listing) yield listing
    return
  }
  const matches = globMatcher(pattern)
  const match = scanPattern(source.keyPrefix, prefix, pattern)
  const seen = new Set<string>()
  for (const node of await primaries(source, prefix)) {
    let cursor: string | Buffer = '0'
    do {
      const [next, found]: [Buffer | string, Buffer[]] = await node.scanBuffer(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
      cursor = next
      const keys: string[] = []
      for (const raw of found) {
        const key = storeKeyOf(raw, source.keyPrefix)
        if (key === undefined || seen.has(key) || !key.startsWith(prefix) || !matches(key.slice(prefix.length))) continue
        seen.add(key)
        keys.push(key)
      }
      // One page's locks at once: the commands are written back to back, one round trip in all.
      for (const listing of await Promise.all(keys.map((key) => inspect(source, key)))) if (listing) yield listing
    } while (String(cursor) !== '0')
  }
}

/** The connections to scan: every primary of a Cluster, else the client itself. */
async function primaries(source: ListSource, prefix: string): Promise<RedisScanClient[]> {
  const { client } = source
  if (!client.nodes) return [client]
  let nodes = client.nodes('master')
  if (nodes.length === 0) {
    // A Cluster client learns its nodes with its first command: run a harmless one.
    await source.holders(prefix)
    nodes = client.nodes('master')
  }
  return nodes
}

/** One lock's holders and last fencing token, or `undefined` when nobody holds it. */
async function inspect(source: ListSource, key: string): Promise<LockListing | undefined> {
  let holders: Holder[]
  let fence: string | null
  try {
    ;[holders, fence] = await Promise.all([source.holders(key), source.client.get(lockKeys(key, '').fence)])
  } catch (error) {
    // A key of this shape that is not cachelock's (another type): not a lock.
    if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return undefined
    throw error
  }
  if (holders.length === 0) return undefined
  const listing: LockListing = { key, holders }
  if (fence !== null && Number.isFinite(Number(fence))) listing.fencingToken = Number(fence)
  return listing
}

/**
 * The `SCAN MATCH` pattern (bytes) for lock keys under `prefix` whose name may match `pattern`: a
 * superset, checked exactly afterwards. Literal characters are escaped as the key is (`hashTag`)
 * and for Redis's glob; `?` widens to `*`, since one name character can be several bytes in the key.
 */
function scanPattern(keyPrefix: string, prefix: string, pattern: string): Buffer {
  const name = parseGlob(pattern).map((token) => ('literal' in token ? redisGlobLiteral(hashTag(token.literal)) : Buffer.from('*')))
  // hashTag maps the empty key alone to `%00`: with no prefix, the name part must also allow it.
  const tag = prefix === '' ? [] : [redisGlobLiteral(hashTag(prefix))]
  return Buffer.concat([redisGlobLiteral(keyPrefix), Buffer.from('{'), ...tag, ...name, Buffer.from('}:[xs]')])
}

/** `text` as a Redis glob that matches exactly its WTF-8 bytes. */
function redisGlobLiteral(text: string): Buffer {
  const bytes = keyBytes(text)
  const out: number[] = []
  for (const byte of bytes) {
    // * ? [ ] \ and ^ (special inside a class; escaping it is harmless elsewhere)
    if (byte === 0x2a || byte === 0x3f || byte === 0x5b || byte === 0x5d || byte === 0x5c || byte === 0x5e) out.push(0x5c)
    out.push(byte)
  }
  return Buffer.from(out)
}

/** The store key behind a scanned `{T}:x` or `{T}:s` key, or `undefined` for anything else. */
function storeKeyOf(raw: Buffer, keyPrefix: string): string | undefined {
  const prefixBytes = Buffer.from(keyPrefix)
  if (!raw.subarray(0, prefixBytes.length).equals(prefixBytes)) return undefined
  const rest = raw.subarray(prefixBytes.length)
  const close = rest.indexOf(0x7d) // the first `}` ends the hash tag
  if (rest[0] !== 0x7b || close === -1 || rest.length !== close + 3 || rest[close + 1] !== 0x3a) return undefined
  if (rest[close + 2] !== 0x78 && rest[close + 2] !== 0x73) return undefined
  const tag = keyFromBytes(rest.subarray(1, close))
  if (tag === undefined) return undefined
  if (tag === '%00') return ''
  return tag.replace(/%25|%7D/g, (escape) => (escape === '%25' ? '%' : '}'))
}
