import { describe, expect, it } from 'vitest'
import { MEMCACHED_KEY_RULES, lockKeys } from '../../../src/stores/memcached/keys.js'

const NAMES = [
  '',
  ' ',
  '\n',
  '\t',
  '\r\n',
  '\u0000',
  '\u007f',
  'a b',
  'lock:order:42',
  'x'.repeat(210),
  'x'.repeat(211),
  'x'.repeat(10_000),
  'ü'.repeat(200),
  '😀 emoji',
  '\uD800',
  '\uDC00',
  '\uFFFD',
  'u\u0308',
  'ü',
  // Names that look like the keys other names derive.
  'x',
  'x~lock',
  'x~fence',
  `x~holder~${'0'.repeat(32)}`,
  `x#${'a'.repeat(64)}`,
]
const OWNERS = ['c0:aaaa', 'c0:bbbb', '\uD800', '']

function derived(name: string): string[] {
  const keys = lockKeys(name)
  return [keys.lock, keys.fence, ...OWNERS.map((owner) => keys.holder(owner))]
}

describe('memcached keys', () => {
  it('keeps ordinary names readable', () => {
    expect(lockKeys('lock:order:42').lock).toBe('lock:order:42~lock')
    expect(lockKeys('lock:order:42').fence).toBe('lock:order:42~fence')
    expect(lockKeys('lock:order:42').holder('c0:aaaa')).toMatch(/^lock:order:42~holder~[0-9a-f]{32}$/)
  })

  it('makes every derived key valid for memcached: ≤ 250 bytes, no spaces or control characters', () => {
    for (const name of NAMES) {
      for (const key of derived(name)) {
        expect(Buffer.byteLength(key), JSON.stringify(name.slice(0, 20))).toBeLessThanOrEqual(250)
        expect(key).not.toMatch(/[\u0000-\u0020\u007f]/)
        expect(key.isWellFormed()).toBe(true)
      }
    }
  })

  it('maps distinct names, kinds and owners to distinct keys', () => {
    const all = NAMES.flatMap(derived)
    expect(new Set(all).size).toBe(all.length)
  })

  it('hashes a long name behind a readable prefix instead of truncating it', () => {
    const long = lockKeys('y'.repeat(300)).lock
    expect(long).toMatch(/^y+#[0-9a-f]{64}~lock$/)
    expect(lockKeys(`${'y'.repeat(300)}z`).lock).not.toBe(long)
  })

  it('leaves room for the longest suffix', () => {
    expect(MEMCACHED_KEY_RULES.maxBytes + '~holder~'.length + 32).toBe(250)
    expect(lockKeys('x'.repeat(210)).lock).toBe(`${'x'.repeat(210)}~lock`)
    expect(lockKeys('x'.repeat(211)).lock).toContain('#')
  })
})
