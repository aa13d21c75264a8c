import { afterAll, describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import type { MemcachedClient } from '../../../src/stores/memcached/client.js'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { MemcachedStore } from '../../../src/stores/memcached/memcached-store.js'
import { Opcode } from '../../../src/stores/memcached/protocol.js'
import { encodeRecord, exclusiveRecord } from '../../../src/stores/memcached/record.js'
import { URL_ONE, appClient, closeAll, owner, rawServers, request, uniqueKey } from './helpers.js'

// A lock record that changes between the store's read and its compare-and-swap write, every time:
// the store retries `maxAttempts` times and then says so. The change is a real write by another
// client to the real server, made just before each of the store's CAS writes is sent.

afterAll(closeAll)

/**
 * A memjs client whose every CAS-checked replace or delete of a lock record another client beats:
 * by rewriting the record (`rewrite`, a joiner or renewal) or deleting it (`delete`, an expiry).
 */
function contended(url: string, beat: 'rewrite' | 'delete' = 'rewrite'): { client: MemcachedClient; casWrites: () => number } {
  const real = appClient(url)
  const [other] = rawServers(url)
  let casWrites = 0
  const client: MemcachedClient = {
    get seq() {
      return real.seq
    },
    incrSeq: () => real.incrSeq(),
    close: () => real.close(),
    perform(route, frame, seq, callback) {
      const opcode = frame[1]
      const cas = frame.readBigUInt64BE(16)
      // Header: key length at 2, extras length at 4; extras, then the key, from byte 24.
      const keyAt = 24 + frame[4]!
      const key = frame.subarray(keyAt, keyAt + frame.readUInt16BE(2)).toString('utf8')
      if ((opcode === Opcode.replace || opcode === Opcode.delete) && cas !== 0n && key === route) {
        casWrites++
        const beaten =
          beat === 'delete'
            ? other!.delete(route, route)
            : other!.get(route, route).then((item) => item && other!.set(route, route, item.value, 30))
        void beaten.then(
          () => real.perform(route, frame, seq, callback),
          (error: unknown) => callback(error, null),
        )
        return
      }
      real.perform(route, frame, seq, callback)
    },
  }
  return { client, casWrites: () => casWrites }
}

describe('MemcachedStore under a record that keeps changing', () => {
  it('gives up a release, an extend and a forced release after maxAttempts, naming the operation and the lock', async () => {
    const { client, casWrites } = contended(URL_ONE)
    const store = new MemcachedStore(client, { maxAttempts: 2 })
    const key = uniqueKey('contended')
    const holder = owner()
    expect((await store.acquire(request(key, { owner: holder }))).granted).toBe(true)
    for (const [operation, call] of [
      ['release', () => store.release(key, holder)],
      ['extend', () => store.extend(key, holder, 30_000)],
      ['force-release', () => store.forceRelease(key)],
    ] as const) {
      const before = casWrites()
      await expect(call()).rejects.toThrow(`memcached: could not ${operation} lock "${key}": it changed concurrently 2 times in a row`)
      expect(casWrites() - before).toBe(2)
    }
    expect((await store.holders(key)).map((h) => h.owner)).toEqual([holder])
  })

  it('refuses an exclusive request over a stale shared record it cannot take over in maxAttempts', async () => {
    const { client, casWrites } = contended(URL_ONE)
    const store = new MemcachedStore(client, { maxAttempts: 1 })
    const key = uniqueKey('stale-shared')
    const reader = owner()
    expect((await store.acquire(request(key, { owner: reader, mode: 'shared' }))).granted).toBe(true)
    // The reader crashed: its own item is gone, the record still lists it.
    const [raw] = rawServers(URL_ONE)
    const keys = lockKeys(key)
    await raw!.delete(keys.lock, keys.holder(reader))
    expect(await store.acquire(request(key))).toEqual({ granted: false })
    expect(casWrites()).toBe(1)
  })
})

/**
 * A memjs client on which another client changes the lock record inside each of this one's round
 * trips: after the server has applied this client's `write` (set or add) of the record, before
 * its read-back. `beat` takes the lock (another owner's record) or frees it (the record deleted).
 */
function overtaken(url: string, write: number, beat: 'take' | 'free'): MemcachedClient {
  const real = appClient(url)
  const [other] = rawServers(url)
  let written: Promise<void> = Promise.resolve()
  const keyOf = (frame: Buffer) => {
    const keyAt = 24 + frame[4]!
    return frame.subarray(keyAt, keyAt + frame.readUInt16BE(2)).toString('utf8')
  }
  return {
    get seq() {
      return real.seq
    },
    incrSeq: () => real.incrSeq(),
    close: () => real.close(),
    perform(route, frame, seq, callback) {
      if (keyOf(frame) !== route) return real.perform(route, frame, seq, callback)
      if (frame[1] === write) {
        written = new Promise((applied) =>
          real.perform(route, frame, seq, (error, response) => {
            applied()
            callback(error, response)
          }),
        )
        return
      }
      if (frame[1] === Opcode.get) {
        void written
          .then(async () => {
            if (beat === 'take') await other!.set(route, route, encodeRecord(exclusiveRecord('other-client')), 30)
            else await other!.delete(route, route)
          })
          .then(
            () => real.perform(route, frame, seq, callback),
            (error: unknown) => callback(error, null),
          )
        return
      }
      real.perform(route, frame, seq, callback)
    },
  }
}

describe('MemcachedStore when another client takes the lock inside its round trip', () => {
  it('does not hand a steal a fencing token it did not hold the lock for, and gives up after maxAttempts', async () => {
    const store = new MemcachedStore(overtaken(URL_ONE, Opcode.set, 'take'), { maxAttempts: 2 })
    const key = uniqueKey('overtaken-steal')
    await expect(store.steal({ key, owner: owner(), ttlMs: 30_000, clientId: 'c0' })).rejects.toThrow(
      `memcached: could not steal lock "${key}": it changed concurrently 2 times in a row`,
    )
  })
})

describe('MemcachedStore when the lock is freed inside its round trip', () => {
  it('an acquire whose add was refused and whose read finds nothing tries again, then reports no grant', async () => {
    for (const mode of ['exclusive', 'shared'] as const) {
      const store = new MemcachedStore(overtaken(URL_ONE, Opcode.add, 'free'), { maxAttempts: 2 })
      const key = uniqueKey(`freed-${mode}`)
      // Held by another client, so the first add is refused; every read-back then finds the lock free.
      expect((await new MemcachedStore(appClient(URL_ONE)).acquire(request(key))).granted).toBe(true)
      expect(await store.acquire(request(key, { mode }))).toEqual({ granted: false })
    }
  })
})

describe('MemcachedStore when the record expires between its read and its write', () => {
  it('reports that nothing was released or extended (the hold was gone)', async () => {
    const { client } = contended(URL_ONE, 'delete')
    const store = new MemcachedStore(client)
    for (const operation of ['release', 'extend', 'forceRelease'] as const) {
      const key = uniqueKey(`expired-${operation}`)
      const holder = owner()
      expect((await store.acquire(request(key, { owner: holder }))).granted).toBe(true)
      const outcome =
        operation === 'release'
          ? store.release(key, holder)
          : operation === 'extend'
            ? store.extend(key, holder, 30_000)
            : store.forceRelease(key)
      expect(await outcome).toBe(false)
    }
  })
})

describe('MemcachedStore options', () => {
  it('refuses a client without perform or incrSeq, naming the argument', () => {
    const noop = () => undefined
    for (const client of [null, undefined, {}, { perform: noop }, { incrSeq: noop }]) {
      expect(() => new MemcachedStore(client as never)).toThrow(InvalidLockArgumentError)
      expect(() => new MemcachedStore(client as never)).toThrow(/client.*a memjs Client/)
    }
  })

  it('takes maxAttempts from 1 up, and says what it takes', () => {
    expect(() => new MemcachedStore(appClient(URL_ONE), { maxAttempts: 1 })).not.toThrow()
    for (const maxAttempts of [0, 1.5, -1]) {
      expect(() => new MemcachedStore(appClient(URL_ONE), { maxAttempts })).toThrow(/options\.maxAttempts.*an integer >= 1/)
    }
  })

  it('closes the client on close() only with closeClient', async () => {
    for (const [closeClient, closes] of [
      [undefined, 0],
      [false, 0],
      [true, 1],
    ] as const) {
      const client = appClient(URL_ONE)
      let closed = 0
      const store = new MemcachedStore(Object.assign(Object.create(client) as MemcachedClient, { close: () => closed++ }), { closeClient })
      await store.close()
      expect(closed).toBe(closes)
    }
  })
})
