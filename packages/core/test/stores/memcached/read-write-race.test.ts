import { afterAll, describe, expect, it } from 'vitest'
import type { MemcachedClient, MemcachedResponse } from '../../../src/stores/memcached/client.js'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { MemcachedStore } from '../../../src/stores/memcached/memcached-store.js'
import { Opcode } from '../../../src/stores/memcached/protocol.js'
import { SETUPS, appClient, closeAll, openStore, owner, request, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

type Callback = (error: unknown, response: MemcachedResponse | null) => void

/**
 * A memjs client that can hold back one request: the next frame with `opcode` for `key` is kept
 * (not sent) until the test lets it go. Between a store's read and its conditional write, another
 * client then acts on the real server, deterministically.
 */
class PausingClient implements MemcachedClient {
  readonly #inner: MemcachedClient
  #armed: { opcode: number; key: string; paused: () => void } | undefined
  #held: (() => void) | undefined

  constructor(inner: MemcachedClient) {
    this.#inner = inner
  }

  get seq(): number {
    return this.#inner.seq
  }

  incrSeq(): void {
    this.#inner.incrSeq()
  }

  /** Resolves once the next `opcode` request for `key` has been written by the store and held back. */
  pauseNext(opcode: number, key: string): Promise<void> {
    return new Promise((paused) => (this.#armed = { opcode, key, paused }))
  }

  /** Send the held request on to the server. */
  resume(): void {
    const send = this.#held
    this.#held = undefined
    send?.()
  }

  perform(route: string, frame: Buffer, seq: number, callback: Callback): void {
    const armed = this.#armed
    if (armed && frame[1] === armed.opcode && frameKey(frame) === armed.key) {
      this.#armed = undefined
      this.#held = () => this.#inner.perform(route, frame, seq, callback)
      armed.paused()
      return
    }
    this.#inner.perform(route, frame, seq, callback)
  }

  close(): void {
    this.#inner.close()
  }
}

/** The key of a binary-protocol request frame (after the 24-byte header and the extras). */
function frameKey(frame: Buffer): string {
  const start = 24 + frame.readUInt8(4)
  return frame.subarray(start, start + frame.readUInt16BE(2)).toString('utf8')
}

/**
 * Release and extend read the lock record, check the owner, then delete or rewrite it. Another
 * client's grant between the two steps must win: the write carries the CAS token of the read, so
 * it finds the record changed and leaves it alone. A get-then-delete would delete the new
 * holder's lock (the bug of every memcached lock library this one descends from).
 */
describe.concurrent.each(SETUPS)('MemcachedStore, another client between read and write (%s)', (_label, url) => {
  const other = openStore(url)

  function pausingStore() {
    const client = new PausingClient(appClient(url))
    return { client, store: new MemcachedStore(client) }
  }

  for (const mode of ['exclusive', 'shared'] as const) {
    it(`releasing a ${mode} hold leaves the lock of a client that stole it before the delete`, async () => {
      const { client, store } = pausingStore()
      const key = uniqueKey(`release-steal-${mode}`)
      const first = owner('a')
      const thief = owner('b')
      expect((await store.acquire(request(key, { owner: first, mode }))).granted).toBe(true)

      const paused = client.pauseNext(Opcode.delete, lockKeys(key).lock)
      const releasing = store.release(key, first)
      await paused // the record was read, showing `first`; its delete is on hold
      await other.steal({ key, owner: thief, ttlMs: 30_000, clientId: 'b' })
      client.resume()

      expect(await releasing).toBe(false)
      expect(await other.holders(key)).toEqual([{ owner: thief, mode: 'exclusive' }])
      expect(await other.release(key, thief)).toBe(true)
    })
  }

  it('a release leaves the lock of a client that took it after the first one expired', async () => {
    const { client, store } = pausingStore()
    const key = uniqueKey('release-expiry')
    const first = owner('a')
    const next = owner('b')
    expect((await store.acquire(request(key, { owner: first, ttlMs: 1000 }))).granted).toBe(true)

    const paused = client.pauseNext(Opcode.delete, lockKeys(key).lock)
    const releasing = store.release(key, first)
    await paused
    await until(async () => (await other.acquire(request(key, { owner: next }))).granted, 'the first lock to expire and be taken', 5000)
    client.resume()

    expect(await releasing).toBe(false)
    expect(await other.holders(key)).toEqual([{ owner: next, mode: 'exclusive' }])
    expect(await other.release(key, next)).toBe(true)
  })

  it('an extend does not rewrite the lock of a client that stole it before the write', async () => {
    const { client, store } = pausingStore()
    const key = uniqueKey('extend-steal')
    const first = owner('a')
    const thief = owner('b')
    expect((await store.acquire(request(key, { owner: first }))).granted).toBe(true)

    const paused = client.pauseNext(Opcode.replace, lockKeys(key).lock)
    const extending = store.extend(key, first, 60_000)
    await paused
    await other.steal({ key, owner: thief, ttlMs: 30_000, clientId: 'b' })
    client.resume()

    expect(await extending).toBe(false)
    expect(await other.holders(key)).toEqual([{ owner: thief, mode: 'exclusive' }])
    expect(await other.release(key, thief)).toBe(true)
  })
})
