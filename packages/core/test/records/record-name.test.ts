import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { encodeRecordValue, modelLockName, recordLockName } from '@cachelock/core/adapter-kit'

describe('recordLockName', () => {
  it('makes model:field:value with the client model name', () => {
    expect(recordLockName('Order', { id: 42 })).toBe('order:id:42')
    expect(recordLockName('OrderItem', { id: 7n })).toBe('orderItem:id:7')
    expect(recordLockName('Product', { sku: 'A-1' })).toBe('product:sku:A-1')
    expect(modelLockName('ABTest')).toBe('aBTest')
  })

  it('sorts the fields of a compound unique and keeps values unambiguous', () => {
    expect(recordLockName('OrderItem', { sku: 'A-1', orderId: 3 })).toBe('orderItem:orderId+sku:["3","A-1"]')
    expect(recordLockName('T', { a: 'x","y', b: 'z' })).not.toBe(recordLockName('T', { a: 'x', b: 'y","z' }))
  })

  it('encodes dates, booleans, bytes and -0 canonically', () => {
    expect(encodeRecordValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z')
    expect(encodeRecordValue(true)).toBe('true')
    expect(encodeRecordValue(Buffer.from([1, 255]))).toBe('0x01ff')
    expect(encodeRecordValue(-0)).toBe('0')
  })

  it.each([null, undefined, Number.NaN, Infinity, {}, [], new Date(Number.NaN), Symbol('x')])('refuses %o as a value', (value) => {
    expect(() => recordLockName('Order', { id: value })).toThrow(InvalidLockArgumentError)
  })

  it('refuses an empty where and a bad model', () => {
    expect(() => recordLockName('Order', {})).toThrow('at least one unique field')
    expect(() => recordLockName('', { id: 1 })).toThrow('`model`')
    expect(() => recordLockName('Order', null as never)).toThrow('`where`')
  })
})
