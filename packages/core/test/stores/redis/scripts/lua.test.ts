import { describe, expect, test } from 'vitest'
import { defineScript } from '../../../../src/stores/redis/scripts/lua.js'
import * as scripts from '../../../../src/stores/redis/scripts/index.js'

describe('defineScript', () => {
  const script = defineScript({ name: 't', keys: ['a', 'b'], args: ['one', 'two'], body: 'return 1', reply: Number })

  test('binds keys and arguments by name, in the declared order', () => {
    expect(script.encode({ b: 'kb', a: 'ka' }, { two: 2, one: '1' })).toEqual([
      ['ka', 'kb'],
      ['1', 2],
    ])
    expect(script.keys).toBe(2)
    expect(script.source.startsWith('local a, b = KEYS[1], KEYS[2]\nlocal one, two = ARGV[1], ARGV[2]\n')).toBe(true)
  })

  test('refuses names that are not plain Lua identifiers, and shared names', () => {
    expect(() => defineScript({ name: 't', keys: ['a]'], args: [], body: '', reply: Number })).toThrow('not a plain Lua name')
    expect(() => defineScript({ name: 't', keys: ['a'], args: ['a'], body: '', reply: Number })).toThrow('share a name')
  })

  test('every store script declares each local once and uses every key it is given', () => {
    for (const s of Object.values(scripts)) {
      for (const name of [...s.keyNames, ...s.argNames]) {
        const uses = s.source.split(/[^A-Za-z0-9_]+/).filter((word) => word === name).length
        expect(uses, `${s.name}: ${name}`).toBeGreaterThanOrEqual(2)
      }
    }
  })
})
