import { EventEmitter, once } from 'node:events'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { redisStoreFromUrl } from '../../../src/stores/redis/from-url.js'
import { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { relay, type Relay } from '../../../../../test/support/relay.js'
import { REDIS_URL, request, uniqueKey, until } from './helpers.js'

/**
 * A store reopens a client it owns when ioredis ends it on its own (see `revive.ts`; the Sentinel
 * race that does so is in `test/reliability/sentinel-reconnect.test.ts`). Here ioredis ends the
 * client the plain way: its `retryStrategy` gives up after every dropped connection.
 */
const servers: Server[] = []
const relays: Relay[] = []
let store: RedisStore | undefined

afterEach(async () => {
  await store?.close()
  store = undefined
  await Promise.all(relays.splice(0).map((link) => link.close()))
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function listen(server: Server, port = 0): Promise<number> {
  servers.push(server)
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/** A server that accepts and at once drops every connection, noting when. */
function dropping(accepted: number[]): Server {
  return createServer((socket) => {
    accepted.push(performance.now())
    socket.destroy()
  })
}

/** A relay to the test Redis, closed after the test. */
async function relayToRedis(port = 0): Promise<Relay> {
  const link = await relay(REDIS_URL, port)
  relays.push(link)
  return link
}

describe('RedisStore: a client it owns is not left ended', () => {
  test('ended by ioredis, it is opened again, with growing pauses while the server drops it, and works once the server does', async () => {
    const accepted: number[] = []
    const drops = dropping(accepted)
    const port = await listen(drops)
    // retryStrategy null: ioredis gives up (status `end`) after each dropped connection.
    store = redisStoreFromUrl(`redis://127.0.0.1:${port}`, { redisOptions: { retryStrategy: () => null } })
    await sleep(1600)
    // The first connection, then reopened 100, 200, 400, 800 ms after each end: 5 by now. Without
    // reopening, 1; reopened every 100 ms, 16.
    expect(accepted.length).toBeGreaterThanOrEqual(3)
    expect(accepted.length).toBeLessThanOrEqual(7)
    const gaps = accepted.slice(1).map((at, i) => at - accepted[i]!)
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! * 2)

    // The server comes back (a relay to Redis on the same port): the next reopening connects.
    await new Promise((resolve) => drops.close(resolve))
    servers.splice(servers.indexOf(drops), 1)
    const link = await relayToRedis(port)
    const key = uniqueKey('revive')
    const asked = request(key)
    const deadline = performance.now() + 5000
    let granted = false
    while (!granted && performance.now() < deadline) {
      granted = await store.acquire(asked).then(
        (result) => result.granted,
        () => false,
      )
      if (!granted) await sleep(50)
    }
    expect(granted).toBe(true)
    expect(await store.release(key, asked.owner)).toBe(true)
    const reconnectsBefore = link.connections

    // Connected again, the pause starts over: the next unasked-for end is followed 100 ms later,
    // not after the 2 s the pauses had grown to.
    const before = accepted.length
    link.drop()
    const droppedAt = performance.now()
    await until(() => link.connections > reconnectsBefore, 5000)
    expect(performance.now() - droppedAt).toBeLessThan(1000)
    expect(accepted.length).toBe(before)
  })

  test('closed on purpose while connected, it is not opened again', async () => {
    const link = await relayToRedis()
    store = redisStoreFromUrl(`redis://127.0.0.1:${link.port}`, { redisOptions: { retryStrategy: () => null } })
    const asked = request(uniqueKey('revive-close'))
    expect((await store.acquire(asked)).granted).toBe(true)
    await store.release(asked.key, asked.owner)
    const opened = link.connections
    await store.close()
    store = undefined
    await sleep(600)
    expect(link.connections).toBe(opened)
  })

  test.each([
    ['neither connect() nor events', {}],
    ['connect() but no events', { connect: () => Promise.resolve() }],
    ['events but no connect()', { events: true }],
  ])('a client with %s (not ioredis) is run as it is', async (_, extra: { connect?: () => Promise<void>; events?: boolean }) => {
    const { Redis } = await import('ioredis')
    const real = new Redis(REDIS_URL)
    const emitter = new EventEmitter()
    // Only what RedisStore needs to run scripts, and some of what revive.ts would use.
    const bare = {
      evalsha: real.evalsha.bind(real),
      eval: real.eval.bind(real),
      duplicate: () => real.duplicate(),
      quit: () => real.quit(),
      status: 'end',
      ...(extra.connect ? { connect: extra.connect } : {}),
      ...(extra.events ? { on: emitter.on.bind(emitter) } : {}),
    }
    const owned = new RedisStore(bare, { closeClient: true })
    const asked = request(uniqueKey('revive-bare'))
    expect((await owned.acquire(asked)).granted).toBe(true)
    expect(await owned.release(asked.key, asked.owner)).toBe(true)
    // An `end` it cannot act on is ignored (calling a missing connect() would throw in a timer).
    emitter.emit('end')
    await sleep(250)
    await owned.close()
  })

  test('closed on purpose, it stays closed', async () => {
    const accepted: number[] = []
    const port = await listen(dropping(accepted))
    store = redisStoreFromUrl(`redis://127.0.0.1:${port}`, { redisOptions: { retryStrategy: () => null } })
    await sleep(150)
    await store.close()
    store = undefined
    const seen = accepted.length
    await sleep(600)
    expect(accepted.length).toBe(seen)
  })
})
