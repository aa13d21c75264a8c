import { describe, expect, it } from 'vitest'
import { decodeRecord, encodeRecord, exclusiveRecord, lists, recordSeconds, sharedRecord } from '../../../src/stores/memcached/record.js'

const raw = (text: string) => Buffer.from(text, 'utf8')

describe('memcached lock records', () => {
  it('round-trip both modes, owners exact (lone surrogates too)', () => {
    const owner = 'c1:\uD800'
    expect(decodeRecord(encodeRecord(exclusiveRecord(owner)), 'k')).toEqual(exclusiveRecord(owner))
    const shared = sharedRecord(
      new Map([
        [owner, 3],
        ['b', 31],
      ]),
    )
    expect(decodeRecord(encodeRecord(shared), 'k')).toEqual(shared)
  })

  it('refuse anything cachelock did not write, naming the key', () => {
    for (const text of [
      'not json',
      'null',
      '42',
      '"x"',
      '{}',
      '{"x":1}',
      '{"s":null}',
      '{"s":"a"}',
      '{"s":{}}',
      '{"s":{"a":0}}',
      '{"s":{"a":-1}}',
      '{"s":{"a":"3"}}',
    ]) {
      expect(() => decodeRecord(raw(text), 'the:key'), text).toThrow(/memcached item "the:key" does not hold a cachelock record/)
    }
  })

  it('keep only the shared holders with a positive ttl', () => {
    expect(decodeRecord(raw('{"s":{"a":2,"b":0,"c":"3","d":1}}'), 'k')).toEqual(
      sharedRecord(
        new Map([
          ['a', 2],
          ['d', 1],
        ]),
      ),
    )
  })

  it('say whether a record lists an owner in a mode', () => {
    expect(lists(undefined, 'a', 'exclusive')).toBe(false)
    expect(lists(exclusiveRecord('a'), 'a', 'exclusive')).toBe(true)
    expect(lists(exclusiveRecord('a'), 'b', 'exclusive')).toBe(false)
    expect(lists(exclusiveRecord('a'), 'a', 'shared')).toBe(false)
    expect(lists(sharedRecord(new Map([['a', 2]])), 'a', 'shared')).toBe(true)
    expect(lists(sharedRecord(new Map([['a', 2]])), 'a', 'exclusive')).toBe(false)
    expect(lists(sharedRecord(new Map([['a', 2]])), 'b', 'shared')).toBe(false)
  })

  it('last as long as their longest shared holder', () => {
    expect(
      recordSeconds(
        sharedRecord(
          new Map([
            ['a', 3],
            ['b', 31],
            ['c', 2],
          ]),
        ),
      ),
    ).toBe(31)
  })
})
