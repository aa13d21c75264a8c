import memjs from 'memjs'
import { afterAll, describe, expect, it } from 'vitest'
import { BinaryProtocol, MemcachedStatusError, Opcode, encodeRequest } from '../../../src/stores/memcached/protocol.js'
import { URL_ONE, appClient, closeAll, uniqueKey } from './helpers.js'

const wire = new BinaryProtocol(appClient(URL_ONE))
const value = Buffer.from('value')

afterAll(closeAll)

describe('encodeRequest', () => {
  it('builds the frame memjs builds, byte for byte', () => {
    const key = Buffer.from('some:key')
    const extras = Buffer.from([0, 0, 0, 0, 0, 0, 0, 30])
    for (const [opcode, ex, val] of [
      [Opcode.get, Buffer.alloc(0), Buffer.alloc(0)],
      [Opcode.add, extras, value],
      [Opcode.touch, extras.subarray(4), Buffer.alloc(0)],
    ] as const) {
      expect(encodeRequest(opcode, key, ex, val, 77)).toEqual(memjs.Utils.makeRequestBuffer(opcode, key, ex, val, 77))
    }
  })

  it('puts the CAS token in header bytes 16–23, big-endian', () => {
    const frame = encodeRequest(Opcode.delete, Buffer.from('k'), Buffer.alloc(0), Buffer.alloc(0), 1, 0x0102030405060708n)
    expect([...frame.subarray(16, 24)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(frame.length).toBe(25)
  })
})

describe('BinaryProtocol against memcached', () => {
  it('reads an item with its CAS token, and misses a missing one', async () => {
    const key = uniqueKey('get')
    expect(await wire.get(key, key)).toBeUndefined()
    expect(await wire.add(key, key, value, 30)).toBe(true)
    const item = await wire.get(key, key)
    expect(item?.value.toString()).toBe('value')
    expect(item?.cas).toBeGreaterThan(0n)
  })

  it('adds only when absent', async () => {
    const key = uniqueKey('add')
    expect(await wire.add(key, key, value, 30)).toBe(true)
    expect(await wire.add(key, key, Buffer.from('other'), 30)).toBe(false)
    expect((await wire.get(key, key))?.value.toString()).toBe('value')
  })

  it('replaces only with the current CAS token', async () => {
    const key = uniqueKey('replace')
    expect(await wire.replace(key, key, value, 30, 12345n)).toBe('not-found')
    await wire.set(key, key, value, 30)
    const item = (await wire.get(key, key))!
    expect(await wire.replace(key, key, Buffer.from('stale'), 30, item.cas + 1n)).toBe('exists')
    expect(await wire.replace(key, key, Buffer.from('fresh'), 30, item.cas)).toBe('done')
    // The write gave the item a new token: the old one is stale now.
    expect(await wire.replace(key, key, Buffer.from('again'), 30, item.cas)).toBe('exists')
    expect((await wire.get(key, key))?.value.toString()).toBe('fresh')
  })

  it('deletes only with the current CAS token (or unconditionally without one)', async () => {
    const key = uniqueKey('delete')
    await wire.set(key, key, value, 30)
    const item = (await wire.get(key, key))!
    await wire.set(key, key, Buffer.from('changed'), 30)
    expect(await wire.delete(key, key, item.cas)).toBe('exists')
    expect(await wire.get(key, key)).toBeDefined()
    expect(await wire.delete(key, key, (await wire.get(key, key))!.cas)).toBe('done')
    expect(await wire.delete(key, key, item.cas)).toBe('not-found')
    await wire.set(key, key, value, 30)
    expect(await wire.delete(key, key)).toBe('done')
  })

  it('touches an existing item only', async () => {
    const key = uniqueKey('touch')
    expect(await wire.touch(key, key, 30)).toBe(false)
    await wire.set(key, key, value, 30)
    expect(await wire.touch(key, key, 60)).toBe(true)
  })

  it('increments a 64-bit counter, creating it with its initial value', async () => {
    const key = uniqueKey('incr')
    const initial = BigInt(Date.now()) * 1000n
    expect(await wire.increment(key, key, 1n, initial, 0)).toBe(initial)
    expect(await wire.increment(key, key, 1n, 5n, 0)).toBe(initial + 1n)
    expect(await wire.increment(key, key, 2n ** 33n, 5n, 0)).toBe(initial + 1n + 2n ** 33n)
  })

  it('never hands out one counter value twice when many create it at once', async () => {
    const key = uniqueKey('incr-race')
    const other = new BinaryProtocol(appClient(URL_ONE))
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? wire : other).increment(key, key, 1n, 1000n, 0)))
    const values = results.filter((result) => result !== undefined)
    expect(new Set(values).size).toBe(values.length)
    expect(values.every((v) => v >= 1000n && v < 1040n)).toBe(true)
  })

  it('runs back-to-back calls in the order sent, in one round trip', async () => {
    const key = uniqueKey('pipeline')
    const counter = `${key}:n`
    const added = wire.add(key, key, value, 30)
    const counted = wire.increment(key, counter, 1n, 1n, 0)
    const read = wire.get(key, key)
    const deleted = wire.delete(key, key)
    const after = wire.get(key, key)
    expect(await Promise.all([added, counted, read, deleted, after])).toEqual([
      true,
      1n,
      expect.objectContaining({ value }),
      'done',
      undefined,
    ])
  })

  it('keeps working past 2^31 requests on one client, where memjs’s sequence number turns negative', async () => {
    const client = appClient(URL_ONE)
    const wrapped = new BinaryProtocol(client)
    ;(client as { seq: number }).seq = 2 ** 31 - 1
    const key = uniqueKey('seq')
    expect(await wrapped.add(key, key, value, 30)).toBe(true)
    expect(client.seq).toBeLessThan(0)
    expect((await Promise.all([wrapped.get(key, key), wrapped.get(key, key)])).map((item) => item?.value.toString())).toEqual([
      'value',
      'value',
    ])
  })

  it('rejects an unexpected status with MemcachedStatusError', async () => {
    const key = uniqueKey('nan')
    await wire.set(key, key, Buffer.from('not a number'), 30)
    const error = await wire.increment(key, key, 1n, 0n, 0).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MemcachedStatusError)
    expect(error).toMatchObject({ status: 0x06 })
  })

  it('refuses keys memcached cannot hold before sending them', async () => {
    await expect(wire.get('k', 'x'.repeat(251))).rejects.toThrow(RangeError)
    await expect(wire.get('k', '')).rejects.toThrow(RangeError)
  })

  it('rejects with the transport error when the server is unreachable', async () => {
    const dead = new BinaryProtocol(appClient('memcached://127.0.0.1:1'))
    const started = performance.now()
    const error = await dead.get('k', 'k').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ code: 'ECONNREFUSED' })
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
