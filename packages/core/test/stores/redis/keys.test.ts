import { describe, expect, it } from 'vitest'
import { channelId, hashTag, lockKeys } from '../../../src/stores/redis/keys.js'

describe('Redis lock keys', () => {
  it('escapes % and } in the hash tag, each its own way, and leaves other keys as they are', () => {
    expect(hashTag('lock:order:42')).toBe('lock:order:42')
    expect(hashTag('a%b}c')).toBe('a%25b%7Dc')
    expect(hashTag('}%')).toBe('%7D%25')
  })

  it('prefixes channels with the client’s keyPrefix, as text or as bytes', () => {
    expect(lockKeys('k', '').channel).toBe('{k}:w')
    expect(lockKeys('k', 'app:').channel).toBe('app:{k}:w')
    const bytes = lockKeys('k', Buffer.from('app:')).channel
    expect(Buffer.isBuffer(bytes) && bytes.toString()).toBe('app:{k}:w')
    // A name that is not well-formed UTF-16 is kept as bytes (WTF-8), prefix and all.
    const lone = lockKeys('\uD800', 'app:').channel
    expect(Buffer.isBuffer(lone) && lone.subarray(0, 5).toString()).toBe('app:{')
    expect(Buffer.isBuffer(lone) && lone.length).toBe('app:{'.length + 3 + '}:w'.length)
  })

  it('identifies a channel the same whether it arrives as text or as bytes', () => {
    expect(channelId('{k}:w')).toBe(channelId(Buffer.from('{k}:w')))
    expect(channelId('ü')).toBe(channelId(Buffer.from('ü')))
    expect(channelId('{k}:w')).not.toBe(channelId('{j}:w'))
    // Bytes that are not UTF-8 (a lone surrogate's WTF-8) stay apart, not decoded into U+FFFD.
    expect(channelId(Buffer.from([0xed, 0xa0, 0x80]))).not.toBe(channelId(Buffer.from([0xed, 0xa0, 0x81])))
  })
})
