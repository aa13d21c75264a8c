import type { Socket } from 'node:net'
import { afterAll, describe, expect, test } from 'vitest'
import { MemcachedStore } from '../../../src/stores/memcached/memcached-store.js'
import { URL_ONE, appClient, closeAll, request, uniqueKey } from './helpers.js'

afterAll(closeAll)

/**
 * The frames of one round trip leave in one write to the socket (one system call): memjs writes
 * each request on its own, and on a busy machine a system call costs more than a loopback round
 * trip. Counted at the socket's own `_write`/`_writev`, which Node calls once per system call it
 * makes for the stream.
 */
describe('memcached write coalescing', () => {
  test('acquire (add, increment, get) is one write; release is one write per round trip', async () => {
    const client = appClient(URL_ONE)
    const store = new MemcachedStore(client)
    const key = uniqueKey('writes')
    // Connect first, so the socket exists to be watched.
    const warm = request(key)
    await store.acquire(warm)
    await store.release(key, warm.owner)

    const socket = (client.server(key) as unknown as { _socket: Socket })._socket
    const writes: number[] = []
    const write = socket._write.bind(socket)
    const writev = socket._writev!.bind(socket)
    socket._write = (chunk, encoding, callback) => (writes.push(1), write(chunk, encoding, callback))
    socket._writev = (chunks, callback) => (writes.push(chunks.length), writev(chunks, callback))

    const r = request(key)
    expect((await store.acquire(r)).granted).toBe(true)
    expect(writes).toEqual([3])
    expect(await store.release(key, r.owner)).toBe(true)
    expect(writes).toEqual([3, 1, 1])
  })
})
