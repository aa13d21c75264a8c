import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { InvalidLockArgumentError, LockError } from '../../../src/errors.js'
import { parseMemcachedUrl } from '../../../src/stores/memcached/url.js'
import { MemcachedStore } from '../../../src/stores/memcached/memcached-store.js'
import { URL_ONE, closeAll, openStore, owner, request, uniqueKey, until } from './helpers.js'

const servers: Server[] = []
afterAll(async () => {
  await closeAll()
  for (const server of servers) server.close()
})

/** A TCP server on a free loopback port; `onSocket` decides what it does with each connection. */
async function listen(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer(onSocket)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

describe('parseMemcachedUrl', () => {
  it('reads one or several servers, with default ports, IPv6 and credentials', () => {
    expect(parseMemcachedUrl('memcached://cache:11311')).toEqual({ servers: [{ host: 'cache', port: 11311 }] })
    expect(parseMemcachedUrl('memcached://h1:11211,h2,[::1]:11212/')).toEqual({
      servers: [
        { host: 'h1', port: 11211 },
        { host: 'h2', port: 11211 },
        { host: '::1', port: 11212 },
      ],
    })
    expect(parseMemcachedUrl('memcached://')).toEqual({ servers: [{ host: 'localhost', port: 11211 }] })
    expect(parseMemcachedUrl('memcached://app:p%40ss%3Aword@h1,h2?timeout=250&connectTimeout=750')).toEqual({
      servers: [
        { host: 'h1', port: 11211 },
        { host: 'h2', port: 11211 },
      ],
      username: 'app',
      password: 'p@ss:word',
      timeoutMs: 250,
      connectTimeoutMs: 750,
    })
    expect(parseMemcachedUrl(new URL('memcached://h1:1'))).toEqual({ servers: [{ host: 'h1', port: 1 }] })
  })

  it('refuses anything else, naming the url', () => {
    for (const bad of [
      'redis://h1',
      'memcached://h1:99999',
      'memcached://h1:0',
      'memcached://h1,,h2',
      'memcached://h1?retries=3',
      'memcached://h1?timeout=-1',
      'memcached://h1?timeout=',
    ]) {
      expect(() => parseMemcachedUrl(bad), bad).toThrow(InvalidLockArgumentError)
      expect(() => parseMemcachedUrl(bad), bad).toThrow(/`url`/)
    }
  })
})

describe('memcachedStoreFromUrl', () => {
  it('fails every operation within a couple of seconds when the server is unreachable, with the original error', async () => {
    const store = openStore('memcached://127.0.0.1:1')
    const key = uniqueKey('unreachable')
    for (const operation of [
      () => store.acquire(request(key)),
      () => store.release(key, owner()),
      () => store.extend(key, owner(), 1000),
      () => store.holders(key),
    ]) {
      const started = performance.now()
      await expect(operation()).rejects.toMatchObject({ code: 'ECONNREFUSED' })
      expect(performance.now() - started).toBeLessThan(2000)
    }
  })

  it('surfaces a dead server through the manager as LockError with the original error as cause', async () => {
    const locks = createLockManager({ store: openStore('memcached://127.0.0.1:1') })
    const error: unknown = await locks.acquire(uniqueKey('manager')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockError)
    expect(error).toMatchObject({ code: 'LOCK_STORE_ERROR', cause: { code: 'ECONNREFUSED' } })
  })

  it('times out a server that accepts connections but never answers', async () => {
    const port = await listen(() => undefined)
    const store = openStore(`memcached://127.0.0.1:${port}?timeout=300`)
    const started = performance.now()
    await expect(store.acquire(request(uniqueKey('silent')))).rejects.toThrow(/timed out/)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('closes the client it opened on close()', async () => {
    const [, upstream] = /:(\d+)$/.exec(URL_ONE)!
    let open = 0
    const port = await listen((socket) => {
      open++
      const server = createConnection(Number(upstream), '127.0.0.1')
      socket.pipe(server).pipe(socket)
      socket.on('close', () => {
        open--
        server.destroy()
      })
      server.on('error', () => socket.destroy())
    })
    const store = openStore(`memcached://127.0.0.1:${port}`)
    expect(store).toBeInstanceOf(MemcachedStore)
    expect((await store.acquire(request(uniqueKey('close')))).granted).toBe(true)
    expect(open).toBe(1)
    await store.close()
    await until(async () => open === 0, 'the connection to close')
  })
})
