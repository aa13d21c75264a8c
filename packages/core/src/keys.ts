import { createHash } from 'node:crypto'

/**
 * Store keys are JavaScript strings, and any string is a valid lock name, including ones that are
 * not well-formed UTF-16 (a lone surrogate). Encoding those as UTF-8 would replace each lone
 * surrogate with U+FFFD and make two distinct names share one key. These helpers keep distinct
 * keys distinct on their way into a store.
 */

/**
 * The bytes of `key` in WTF-8: UTF-8 for well-formed strings (so ordinary keys are stored as
 * themselves), with each lone surrogate encoded as its own three bytes instead of U+FFFD.
 * Injective over all JavaScript strings.
 */
export function keyBytes(key: string): Buffer {
  if (key.isWellFormed()) return Buffer.from(key, 'utf8')
  const bytes: number[] = []
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i)
    const next = key.charCodeAt(i + 1)
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      const codePoint = ((unit - 0xd800) << 10) + (next - 0xdc00) + 0x10000
      bytes.push(0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f))
      i++
    } else if (unit < 0x80) {
      bytes.push(unit)
    } else if (unit < 0x800) {
      bytes.push(0xc0 | (unit >> 6), 0x80 | (unit & 0x3f))
    } else {
      bytes.push(0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f))
    }
  }
  return Buffer.from(bytes)
}

/**
 * The key whose {@link keyBytes} are `bytes` (the inverse, for stores that list their keys), or
 * `undefined` when `bytes` are not the WTF-8 of any string (a key cachelock did not write).
 */
export function keyFromBytes(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8')
  // Well-formed UTF-8 round-trips; only lone surrogates (or foreign bytes) decode to U+FFFD.
  if (!text.includes('\uFFFD')) return text
  let key = ''
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i]!
    const size = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
    let codePoint = size === 1 ? lead : lead & (0xff >> (size + 1))
    for (let j = 1; j < size; j++) codePoint = (codePoint << 6) | ((bytes[i + j] ?? 0) & 0x3f)
    key += codePoint >= 0xd800 && codePoint <= 0xdfff ? String.fromCharCode(codePoint) : String.fromCodePoint(Math.min(codePoint, 0x10ffff))
    i += size
  }
  return keyBytes(key).equals(bytes) ? key : undefined
}

/**
 * `key` as a string a store can pass to a client that encodes strings as UTF-8: itself when
 * well-formed, otherwise a `Buffer` of its WTF-8 bytes (Redis keys are binary-safe).
 */
export function storableKey(key: string): string | Buffer {
  return key.isWellFormed() ? key : keyBytes(key)
}

export interface SafeKeyRules {
  /** Longest key the backend accepts, in bytes (memcached: 250). */
  maxBytes: number
  /** Bytes the backend refuses in a key (memcached: space and control characters). */
  forbidden: RegExp
}

/**
 * A key a restrictive backend can hold. Keys that already fit are returned unchanged. Any other
 * key becomes a readable prefix of its printable characters, then `#`, then the SHA-256 of its
 * WTF-8 bytes: two distinct keys never collide (up to SHA-256), and nothing is truncated into
 * another key. A key that fits never contains `#` followed by 64 hex digits at its end, because
 * keys that do are hashed too.
 */
export function safeKey(key: string, rules: SafeKeyRules): string {
  const bytes = keyBytes(key)
  const looksHashed = /#[0-9a-f]{64}$/.test(key)
  if (key.isWellFormed() && !looksHashed && bytes.length <= rules.maxBytes && !rules.forbidden.test(key)) return key
  const digest = createHash('sha256').update(bytes).digest('hex')
  const room = rules.maxBytes - digest.length - 1
  const readable = Array.from(key)
    .filter((char) => !rules.forbidden.test(char) && char.isWellFormed())
    .join('')
  let prefix = ''
  for (const char of readable) {
    if (Buffer.byteLength(prefix + char) > room) break
    prefix += char
  }
  return `${prefix}#${digest}`
}
