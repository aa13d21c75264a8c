import { afterAll, describe, expect, test } from 'vitest'
import type { Cluster, Redis } from 'ioredis'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import { redisStoreFromUrl } from '../../../src/stores/redis/from-url.js'
import { parseRedisUrl } from '../../../src/stores/redis/url.js'
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
      options: {},
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
      options: {},
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

  test('Sentinel form: Sentinels, primary name, db, both sets of credentials, store options', () => {
    expect(parseRedisUrl('redis+sentinel://s1:26380,s2/mymaster')).toEqual({
      cluster: false,
      tls: false,
      username: '',
      password: '',
      nodes: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      sentinel: { name: 'mymaster', db: 0, username: '', password: '' },
      options: {},
    })
    expect(
      parseRedisUrl(
        'redis+sentinel://app:data%40pw@[::1]:26379/my%2Fprimary/3?sentinelUsername=watch&sentinelPassword=s%26p&waitReplicas=1&waitTimeoutMs=250',
      ),
    ).toEqual({
      cluster: false,
      tls: false,
      username: 'app',
      password: 'data@pw',
      nodes: [{ host: '::1', port: 26379 }],
      sentinel: { name: 'my/primary', db: 3, username: 'watch', password: 's&p' },
      options: { waitReplicas: 1, waitTimeoutMs: 250 },
    })
  })

  test('store options in the query of every Redis scheme', () => {
    expect(parseRedisUrl('redis://h:1/0?waitReplicas=2').options).toEqual({ waitReplicas: 2 })
    expect(parseRedisUrl('redis+cluster://a:1,b:2?waitReplicas=1&waitTimeoutMs=50').options).toEqual({ waitReplicas: 1, waitTimeoutMs: 50 })
  })

  test.each([
    ['no primary name', 'redis+sentinel://s1:26379', /primaryName/],
    ['an empty primary name', 'redis+sentinel://s1:26379/', /primaryName/],
    ['a db that is not a number', 'redis+sentinel://s1:26379/mymaster/x', /primaryName\/db/],
    ['a path too long', 'redis+sentinel://s1:26379/mymaster/0/extra', /primaryName\/db/],
    ['no Sentinels', 'redis+sentinel:///mymaster', /names its nodes/],
    ['a bad port', 'redis+sentinel://s1:99999/mymaster', /host:port/],
    ['an unknown parameter', 'redis+sentinel://s1/mymaster?password=x', /query parameters: sentinelUsername/],
    ['TLS', 'rediss+sentinel://s1/mymaster', /enableTLSForSentinelMode/],
    ['bad percent-encoding', 'redis+sentinel://s1/my%ZZmaster', /percent-encoding/],
    ['waitReplicas not a number', 'redis+sentinel://s1/m?waitReplicas=one', /waitReplicas must be a whole number/],
    ['waitReplicas out of range', 'redis://h?waitReplicas=101', /`waitReplicas` to be an integer from 0 to 100/],
    ['waitTimeoutMs of 0', 'redis+sentinel://s1/m?waitReplicas=1&waitTimeoutMs=0', /`waitTimeoutMs` to be a finite number/],
  ])('refuses a Sentinel URL with %s, naming the URL', (_label, url, message) => {
    const error = (() => {
      try {
        parseRedisUrl(url)
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error).toMatchObject({ argument: 'url', code: 'LOCK_INVALID_ARGUMENT' })
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).toContain(JSON.stringify(url).slice(0, 40))
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
