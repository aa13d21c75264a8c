import { describe, expect, it } from 'vitest'
import { keyBytes, safeKey, storableKey } from '@cachelock/core/store-kit'

const memcached = { maxBytes: 250, forbidden: /[\s\x00-\x1f\x7f]/ }

describe('keys', () => {
  it('keyBytes is UTF-8 for well-formed strings and keeps lone surrogates apart', () => {
    expect(keyBytes('héllo')).toEqual(Buffer.from('héllo', 'utf8'))
    expect(keyBytes('😀')).toEqual(Buffer.from('😀', 'utf8'))
    const lone = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', 'a\uD800b', '\uD800\uD800']
    const encoded = new Set(lone.map((k) => keyBytes(k).toString('hex')))
    expect(encoded.size).toBe(lone.length)
    expect(keyBytes('\uD800').toString('hex')).toBe('eda080')
  })

  it('storableKey passes well-formed keys through as strings', () => {
    expect(storableKey('lock:a')).toBe('lock:a')
    expect(Buffer.isBuffer(storableKey('lock:\uD800'))).toBe(true)
  })

  it('safeKey leaves fitting keys alone and hashes the rest without collisions', () => {
    expect(safeKey('lock:order:42', memcached)).toBe('lock:order:42')
    const odd = ['a b', 'a\nb', 'a\tb', 'x'.repeat(251), 'x'.repeat(300), '\uD800', '\uDC00', `lock:${'#'.padEnd(65, 'a')}`, '']
    const mapped = odd.map((k) => safeKey(k, memcached))
    expect(new Set(mapped).size).toBe(odd.length)
    for (const key of mapped) {
      expect(Buffer.byteLength(key)).toBeLessThanOrEqual(250)
      expect(memcached.forbidden.test(key)).toBe(false)
    }
    expect(safeKey('a b', memcached).startsWith('ab#')).toBe(true)
  })

  it('safeKey never maps a hashed key onto a key that already looked hashed', () => {
    const hashed = safeKey('a b', memcached)
    expect(safeKey(hashed, memcached)).not.toBe(hashed)
  })
})
