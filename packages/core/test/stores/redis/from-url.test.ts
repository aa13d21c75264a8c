import { afterAll, describe, expect, test } from 'vitest'
import type { Cluster, Redis } from 'ioredis'
import { parseRedisUrl, redisStoreFromUrl } from '../../../src/stores/redis/from-url.js'
import type { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { CLUSTER_URL, REDIS_URL, request, uniqueKey, until } from './helpers.js'

const stores: RedisStore[] = []
afterAll(() => Promise.all(stores.map((store) => store.close())))

describe('parseRedisUrl', () => {
  test('single server, TLS and cluster forms', () => {
    expect(parseRedisUrl('redis://localhost:6380/2')).toEqual({
      cluster: false,
      tls: false,
      username: '',
      password: '',
      nodes: [{ host: 'localhost', port: 6380 }],
    })
    expect(parseRedisUrl('rediss://user:p%40ss@cache.example.com')).toMatchObject({
      tls: true,
      username: 'user',
      password: 'p@ss',
      nodes: [{ host: 'cache.example.com', port: 6379 }],
    })
    expect(parseRedisUrl('redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002')).toEqual({
      cluster: true,
      tls: false,
      username: '',
      password: 'secret',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    })
    expect(parseRedisUrl('redis://')).toMatchObject({ cluster: false, nodes: [{ host: 'localhost', port: 6379 }] })
    expect(parseRedisUrl('rediss+cluster://a,b:7001')).toMatchObject({
      cluster: true,
      tls: true,
      nodes: [
        { host: 'a', port: 6379 },
        { host: 'b', port: 7001 },
      ],
    })
  })

  test('rejects other schemes and empty host lists, naming the URL', () => {
    expect(() => parseRedisUrl('memcached://localhost:11211')).toThrow(/Redis URL.*got "memcached:\/\/localhost:11211"/)
    expect(() => parseRedisUrl('redis+cluster://')).toThrow(TypeError)
    expect(() => parseRedisUrl('redis+cluster://a:b:c')).toThrow(/host:port/)
  })
})

describe('redisStoreFromUrl', () => {
  test.each([
    ['redis:// string', REDIS_URL],
    ['redis:// URL object', new URL(REDIS_URL)],
    ['redis+cluster://', CLUSTER_URL],
  ])('%s makes a working store whose close() ends its own client', async (_label, url) => {
    const store = redisStoreFromUrl(url)
    stores.push(store)
    const key = uniqueKey('url')
    const r = request(key)
    expect((await store.acquire(r)).granted).toBe(true)
    expect(await store.release(key, r.owner)).toBe(true)
    await store.close()
    const client = store.client as Redis | Cluster
    await until(() => client.status === 'end')
  })
})
