import type { CorkableSocket, MemcachedClient, MemcachedResponse } from './client.js'

/**
 * The memcached binary-protocol commands memjs lacks: reads that return the item's CAS token,
 * writes and deletes conditional on it, touch, and a 64-bit increment that creates its counter.
 * Frames go through the client's `perform`, so memjs keeps doing connections, timeouts and retries.
 *
 * Every request is written when its method is called. Calls made back to back without awaiting
 * in between are pipelined: they share one round trip and, given the same `route`, reach the same
 * server, which executes them in the order sent. The store relies on that order (see
 * `memcached-store.ts`), and routes all keys of one lock by its lock key for that reason.
 *
 * Frames of one round trip leave in one system call: the first request of a turn corks the
 * server's socket and the socket is uncorked once the turn's synchronous work and promise jobs are
 * done (`process.nextTick`), so Node writes everything queued meanwhile with one `writev`. memjs
 * writes each request as it comes; on a busy VM a system call costs more than a loopback round
 * trip, which made acquire + release (six requests in three round trips) cost six.
 */

/** Opcodes from memcached's `protocol_binary.h`. */
export const Opcode = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  replace: 0x03,
  delete: 0x04,
  increment: 0x05,
  touch: 0x1c,
} as const

/** Response statuses the store acts on; anything else is an error. */
export const Status = {
  ok: 0x00,
  notFound: 0x01,
  /** `add` on an existing key, or a CAS token that no longer matches. */
  exists: 0x02,
  /** An increment that tried to create its counter lost the race to another creator. */
  notStored: 0x05,
} as const

const STATUS_TEXT: Record<number, string> = {
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
}

/** memcached refuses longer keys. */
export const MAX_KEY_BYTES = 250

const HEADER_BYTES = 24
const REQUEST_MAGIC = 0x80
/** An increment with this expiration fails on a missing counter instead of creating it. */
const NO_CREATE = 0xffffffff

/** A memcached answer the store did not expect (out of memory, a non-numeric counter, ...). */
export class MemcachedStatusError extends Error {
  override name = 'MemcachedStatusError'
  /** The binary-protocol status, e.g. `0x82` for out of memory. */
  readonly status: number

  constructor(command: string, key: string, status: number) {
    const text = STATUS_TEXT[status] ?? 'unknown status'
    super(`memcached ${command} ${JSON.stringify(key)} failed: ${text} (status 0x${status.toString(16).padStart(2, '0')})`)
    this.status = status
  }
}

/** An item as read: its bytes and the CAS token a conditional write or delete must present. */
export interface Item {
  value: Buffer
  cas: bigint
}

/** How a CAS-conditional write or delete ended. */
export type CasOutcome = 'done' | 'exists' | 'not-found'

/**
 * One binary-protocol request frame: the 24-byte header, then extras, key and value. Byte for byte
 * what memjs's `Utils.makeRequestBuffer` builds, plus the CAS token in header bytes 16–23 (the test
 * compares the two), written here so the store needs no memjs module, only a client.
 */
export function encodeRequest(opcode: number, key: Buffer, extras: Buffer, value: Buffer, opaque: number, cas = 0n): Buffer {
  const frame = Buffer.alloc(HEADER_BYTES + extras.length + key.length + value.length)
  frame.writeUInt8(REQUEST_MAGIC, 0)
  frame.writeUInt8(opcode, 1)
  frame.writeUInt16BE(key.length, 2)
  frame.writeUInt8(extras.length, 4)
  frame.writeUInt32BE(extras.length + key.length + value.length, 8)
  frame.writeUInt32BE(opaque, 12)
  frame.writeBigUInt64BE(cas, 16)
  extras.copy(frame, HEADER_BYTES)
  key.copy(frame, HEADER_BYTES + extras.length)
  value.copy(frame, HEADER_BYTES + extras.length + key.length)
  return frame
}

/** Storage extras: 4 bytes of flags (always 0 here), then the expiration. */
function storageExtras(exptime: number): Buffer {
  const extras = Buffer.alloc(8)
  extras.writeUInt32BE(exptime, 4)
  return extras
}

function expirationExtras(exptime: number): Buffer {
  const extras = Buffer.alloc(4)
  extras.writeUInt32BE(exptime, 0)
  return extras
}

const EMPTY = Buffer.alloc(0)
/** Conditional writes and deletes answer with one of these; `casOutcome` names them. */
const CONDITIONAL = [Status.ok, Status.exists, Status.notFound]

export class BinaryProtocol {
  readonly #client: MemcachedClient
  /** Sockets corked in this turn, uncorked together on the next tick. */
  readonly #corked: CorkableSocket[] = []
  readonly #uncork = () => {
    for (const socket of this.#corked.splice(0)) socket.uncork()
  }

  constructor(client: MemcachedClient) {
    this.#client = client
  }

  /** The item at `key` with its CAS token, or `undefined` when there is none (or it expired). */
  async get(route: string, key: string): Promise<Item | undefined> {
    const response = await this.#send('get', Opcode.get, route, key, EMPTY, EMPTY, 0n, [Status.ok, Status.notFound])
    if (response.header.status === Status.notFound) return undefined
    return { value: Buffer.from(response.val), cas: response.header.cas.readBigUInt64BE(0) }
  }

  /** Create `key` only if absent (atomic). Resolves whether it was created. */
  async add(route: string, key: string, value: Buffer, exptime: number): Promise<boolean> {
    const response = await this.#send('add', Opcode.add, route, key, storageExtras(exptime), value, 0n, [Status.ok, Status.exists])
    return response.header.status === Status.ok
  }

  /** Store `value` at `key` unconditionally. */
  async set(route: string, key: string, value: Buffer, exptime: number): Promise<void> {
    await this.#send('set', Opcode.set, route, key, storageExtras(exptime), value, 0n, [Status.ok])
  }

  /** Overwrite `key` only if it still carries CAS token `cas` (compare-and-swap). */
  async replace(route: string, key: string, value: Buffer, exptime: number, cas: bigint): Promise<CasOutcome> {
    const response = await this.#send('replace', Opcode.replace, route, key, storageExtras(exptime), value, cas, CONDITIONAL)
    return casOutcome(response)
  }

  /** Delete `key`; with a non-zero `cas`, only if it still carries that token. */
  async delete(route: string, key: string, cas = 0n): Promise<CasOutcome> {
    const response = await this.#send('delete', Opcode.delete, route, key, EMPTY, EMPTY, cas, CONDITIONAL)
    return casOutcome(response)
  }

  /** Give `key` a new expiration. Resolves `false` when the item is gone. */
  async touch(route: string, key: string, exptime: number): Promise<boolean> {
    const response = await this.#send('touch', Opcode.touch, route, key, expirationExtras(exptime), EMPTY, 0n, [Status.ok, Status.notFound])
    return response.header.status === Status.ok
  }

  /**
   * Add `delta` to the 64-bit counter at `key` and resolve the new value. A missing counter is
   * created holding `initial` (which is then the result) with `exptime`, atomically in the server.
   * Resolves `undefined` when two clients created the counter at once and this one lost (memcached
   * answers "not stored"): increment again, the counter exists now.
   */
  async increment(route: string, key: string, delta: bigint, initial: bigint, exptime: number): Promise<bigint | undefined> {
    if (exptime === NO_CREATE) throw new RangeError(`exptime ${NO_CREATE} would disable creating the counter`)
    const extras = Buffer.alloc(20)
    extras.writeBigUInt64BE(delta, 0)
    extras.writeBigUInt64BE(initial, 8)
    extras.writeUInt32BE(exptime, 16)
    const response = await this.#send('increment', Opcode.increment, route, key, extras, EMPTY, 0n, [Status.ok, Status.notStored])
    if (response.header.status === Status.notStored) return undefined
    return response.val.readBigUInt64BE(0)
  }

  #send(
    command: string,
    opcode: number,
    route: string,
    key: string,
    extras: Buffer,
    value: Buffer,
    cas: bigint,
    accepted: readonly number[],
  ): Promise<MemcachedResponse> {
    const keyBuffer = Buffer.from(key, 'utf8')
    if (keyBuffer.length > MAX_KEY_BYTES || keyBuffer.length === 0) {
      return Promise.reject(new RangeError(`memcached keys are 1 to ${MAX_KEY_BYTES} bytes, got ${keyBuffer.length}`))
    }
    return new Promise((resolve, reject) => {
      this.#client.incrSeq()
      // memjs 1.3 wraps `seq` with `&= 0xffffffff`, which turns negative after 2^31 requests, and
      // a negative `opaque` cannot be encoded (its own commands fail from then on). The unsigned
      // view is the same 32 bits, so it stays unique among requests in flight and matches the
      // `opaque` the server echoes back.
      const seq = this.#client.seq >>> 0
      const request = encodeRequest(opcode, keyBuffer, extras, value, seq, cas)
      this.#cork(route)
      this.#client.perform(route, request, seq, (error, response) => {
        if (error) reject(error instanceof Error ? error : new Error(`memcached ${command} failed`, { cause: error }))
        else if (!response) reject(new Error(`memcached ${command} ${JSON.stringify(key)} got no response`))
        else if (!accepted.includes(response.header.status)) reject(new MemcachedStatusError(command, key, response.header.status))
        else resolve(response)
      })
    })
  }

  #cork(route: string): void {
    const server = this.#client.server?.(route) as { _socket?: Partial<CorkableSocket> } | undefined
    const socket = server?._socket
    if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return
    if (this.#corked.includes(socket as CorkableSocket)) return
    socket.cork()
    if (this.#corked.push(socket as CorkableSocket) === 1) process.nextTick(this.#uncork)
  }
}

function casOutcome(response: MemcachedResponse): CasOutcome {
  if (response.header.status === Status.ok) return 'done'
  return response.header.status === Status.exists ? 'exists' : 'not-found'
}
