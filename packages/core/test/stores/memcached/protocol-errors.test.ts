import { describe, expect, it } from 'vitest'
import type { MemcachedClient, MemcachedResponse } from '../../../src/stores/memcached/client.js'
import { BinaryProtocol, MemcachedStatusError } from '../../../src/stores/memcached/protocol.js'

/** A client that answers every request the same way, to see what each command makes of it. */
function answering(
  answer: (callback: (error: unknown, response: MemcachedResponse | null) => void) => void,
): MemcachedClient & { sent: number } {
  return {
    seq: 0,
    sent: 0,
    incrSeq() {
      ;(this as { seq: number }).seq++
    },
    perform(_route, _request, _seq, callback) {
      this.sent++
      answer(callback)
    },
    close: () => undefined,
  }
}
const status = (code: number): MemcachedResponse => ({
  header: { status: code, cas: Buffer.alloc(8) },
  extras: Buffer.alloc(0),
  val: Buffer.alloc(8),
})

describe('memcached protocol errors', () => {
  it('name the command, the key and the status, in words where memcached defines them', async () => {
    const wire = new BinaryProtocol(answering((callback) => callback(null, status(0x82))))
    const commands: [string, Promise<unknown>][] = [
      ['get', wire.get('r', 'k')],
      ['add', wire.add('r', 'k', Buffer.alloc(0), 1)],
      ['set', wire.set('r', 'k', Buffer.alloc(0), 1)],
      ['replace', wire.replace('r', 'k', Buffer.alloc(0), 1, 1n)],
      ['delete', wire.delete('r', 'k')],
      ['touch', wire.touch('r', 'k', 1)],
      ['increment', wire.increment('r', 'k', 1n, 0n, 0)],
    ]
    for (const [command, call] of commands) {
      const error = await call.catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(MemcachedStatusError)
      expect(error).toMatchObject({
        name: 'MemcachedStatusError',
        status: 0x82,
        message: `memcached ${command} "k" failed: out of memory (status 0x82)`,
      })
    }
    const words: Record<number, string> = {
      0x01: 'key not found',
      0x02: 'key exists',
      0x03: 'value too large',
      0x04: 'invalid arguments',
      0x05: 'item not stored',
      0x06: 'incr/decr on a non-numeric value',
      0x20: 'authentication error',
      0x81: 'unknown command',
      0x82: 'out of memory',
      0x86: 'temporary failure',
      0x99: 'unknown status',
    }
    for (const [code, text] of Object.entries(words))
      expect(new MemcachedStatusError('get', 'k', Number(code)).message).toContain(`: ${text} (`)
    // Two hex digits, as memcached's documentation writes them.
    expect(new MemcachedStatusError('get', 'k', 0x05).message).toBe('memcached get "k" failed: item not stored (status 0x05)')
  })

  it('reject when the transport fails or answers nothing', async () => {
    await expect(new BinaryProtocol(answering((callback) => callback('socket gone', null))).get('r', 'k')).rejects.toThrow(
      'memcached get failed',
    )
    const wrapped = await new BinaryProtocol(answering((callback) => callback('socket gone', null))).get('r', 'k').catch((e: unknown) => e)
    expect(wrapped).toMatchObject({ cause: 'socket gone' })
    await expect(new BinaryProtocol(answering((callback) => callback(null, null))).get('r', 'k')).rejects.toThrow(
      'memcached get "k" got no response',
    )
  })

  it('sends keys of 1 to 250 bytes and refuses others unsent; refuses the increment expiration that would not create', async () => {
    const client = answering((callback) => callback(null, status(0x01)))
    const wire = new BinaryProtocol(client)
    expect(await wire.get('r', 'ü'.repeat(125))).toBeUndefined()
    await expect(wire.get('r', 'x'.repeat(251))).rejects.toThrow('memcached keys are 1 to 250 bytes, got 251')
    await expect(wire.increment('r', 'k', 1n, 0n, 0xffffffff)).rejects.toThrow(
      new RangeError('exptime 4294967295 would disable creating the counter'),
    )
    expect(client.sent).toBe(1)
  })

  it('tells a lost counter-creation race from a count', async () => {
    expect(await new BinaryProtocol(answering((callback) => callback(null, status(0x05)))).increment('r', 'k', 1n, 0n, 0)).toBeUndefined()
  })
})
