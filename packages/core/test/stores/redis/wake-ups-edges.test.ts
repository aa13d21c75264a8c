import { createServer } from 'node:net'
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest'
import { Redis } from 'ioredis'
import type { RedisClient, RedisSubscriber } from '../../../src/stores/redis/client.js'
import { lockKeys, type RedisKey } from '../../../src/stores/redis/keys.js'
import { INTEREST_TTL_MS, WakeUps } from '../../../src/stores/redis/wake-ups.js'
import { closeAll, connect, request, storeFor, uniqueKey, until } from './helpers.js'

/**
 * The edges of the wake-ups on a real Redis: listeners that leave while others stay, a store
 * closed while it subscribes, reconnects with a failed subscription, the listening marks' renewal.
 * The WakeUps are made here on a real client so the test decides when the listening mark is set.
 */
afterAll(closeAll)
afterEach(() => {
  vi.useRealTimers()
})

const raw = connect('standalone') as Redis

function counter() {
  const wake = () => void wake.calls++
  wake.calls = 0
  return wake
}

/** The real client, keeping the subscriber connection WakeUps opens with `duplicate()`. */
function realClient() {
  const client = connect('standalone') as Redis
  const subscribers: Redis[] = []
  const duplicate = client.duplicate.bind(client)
  client.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const subscriber = duplicate(...args)
    subscribers.push(subscriber)
    return subscriber
  }
  return { client: client as unknown as RedisClient, subscriber: () => subscribers.at(-1) as unknown as Redis & RedisSubscriber }
}

/** A listening mark that waits for the test to let it through (`open`) or fail (`fail`). */
function gatedInterest(client: RedisClient) {
  const pending: Promise<unknown>[] = []
  let open!: () => void
  let fail!: (error: Error) => void
  const gate = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  gate.catch(() => undefined)
  const interest = (alive: RedisKey) => {
    const call = gate.then(() => (client as unknown as Redis).set(alive, '1', 'PX', INTEREST_TTL_MS))
    pending.push(call)
    return call
  }
  /** Resolves once every mark asked for so far has been set or has failed. */
  const settled = () => Promise.allSettled(pending)
  return { interest, open, fail, settled }
}

const target = (key: string) => lockKeys(key, '') as { channel: string; alive: string }

async function numsub(channel: string): Promise<number> {
  const reply = (await raw.pubsub('NUMSUB', channel)) as [string, number]
  return Number(reply[1])
}

describe('wake-ups on standalone', () => {
  const store = storeFor('standalone', { subscriberIdleMs: 50 })

  test('one of two listeners leaving keeps the subscription: the other is still woken on release', async () => {
    const key = uniqueKey('stay')
    const holder = request(key)
    expect((await store.acquire(holder)).granted).toBe(true)
    expect((await store.acquire(request(key, { clientId: 'waiter', waiting: true }))).granted).toBe(false)
    const [leaving, staying] = [counter(), counter()]
    const stopLeaving = store.onRelease(key, leaving)
    const stopStaying = store.onRelease(key, staying)
    await until(() => leaving.calls === 1 && staying.calls === 1)
    stopLeaving()
    expect(await numsub(target(key).channel)).toBe(1)
    await store.release(key, holder.owner)
    await until(() => staying.calls === 2)
    expect(leaving.calls).toBe(1)
    stopStaying()
  })

  test('a listener stopped by another one that is woken first is not woken', async () => {
    const key = uniqueKey('stopped')
    const second = counter()
    let stopSecond = () => undefined as void
    const first = counter()
    const stopFirst = store.onRelease(key, () => {
      first()
      stopSecond()
    })
    stopSecond = store.onRelease(key, second)
    await until(() => first.calls === 1)
    expect(second.calls).toBe(0)
    stopFirst()
  })

  test('closed while the listening mark is being set: no listener is woken afterwards, set or failed', async () => {
    for (const outcome of ['set', 'failed'] as const) {
      const { client, subscriber } = realClient()
      const gated = gatedInterest(client)
      const wakeUps = new WakeUps(client, 50, gated.interest)
      const key = uniqueKey(`closing-${outcome}`)
      const wake = counter()
      wakeUps.listen(target(key), wake)
      await until(() => subscriber() !== undefined)
      // The subscription itself is answered (replies come in order), only the mark is pending.
      await subscriber().subscribe(uniqueKey('after'))
      wakeUps.close()
      if (outcome === 'set') gated.open()
      else gated.fail(new Error('mark failed'))
      await gated.settled()
      await new Promise((resolve) => setImmediate(resolve))
      expect([outcome, wake.calls]).toEqual([outcome, 0])
    }
  })

  test('after a reconnect, listeners whose subscription failed are not woken with the active ones', async () => {
    const { client, subscriber } = realClient()
    const [active, failed] = [uniqueKey('active'), uniqueKey('failed')]
    const wakeUps = new WakeUps(client, 50, async (alive, on) => {
      if (alive === target(failed).alive) throw new Error('mark failed')
      return (client as unknown as Redis).set(alive, String(on), 'PX', INTEREST_TTL_MS)
    })
    const [onActive, onFailed] = [counter(), counter()]
    const stops = [wakeUps.listen(target(active), onActive), wakeUps.listen(target(failed), onFailed)]
    await until(() => onActive.calls === 1 && onFailed.calls === 1 && subscriber().status === 'ready')
    const id = await subscriber().client('ID')
    await raw.client('KILL', 'ID', String(id))
    await until(() => onActive.calls === 2, 5000)
    expect(onFailed.calls).toBe(1)
    stops.forEach((stop) => stop())
    wakeUps.close()
  })

  test('renews the listening mark of every listened lock once per third of its lifetime, from one timer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { client } = realClient()
    const marks: string[] = []
    const wakeUps = new WakeUps(client, 50, async (alive, on) => {
      if (on) marks.push(String(alive))
      return (client as unknown as Redis).set(alive, '1', 'PX', INTEREST_TTL_MS)
    })
    const [a, b] = [target(uniqueKey('renew-a')), target(uniqueKey('renew-b'))]
    const [wakeA, wakeB] = [counter(), counter()]
    wakeUps.listen(a, wakeA)
    wakeUps.listen(b, wakeB)
    await until(() => wakeA.calls === 1 && wakeB.calls === 1)
    expect(marks.sort()).toEqual([a.alive, b.alive].sort())
    vi.advanceTimersByTime(INTEREST_TTL_MS / 3)
    expect(marks.sort()).toEqual([a.alive, a.alive, b.alive, b.alive].sort())
    wakeUps.close()
    expect(vi.getTimerCount()).toBe(0)
  })

  test('an unreachable server is not reported as an unhandled ioredis error by the subscriber connection', async () => {
    const port = await freePort()
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => undefined)
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const wakeUps = new WakeUps(client, 50, () => client.set('x', '1'))
      const wake = counter()
      wakeUps.listen(target(uniqueKey('down')), wake)
      await until(() => wake.calls === 1) // the subscription failed: the listener polls
      wakeUps.close()
      expect(printed.mock.calls.map((args) => String(args[0]))).toEqual([])
    } finally {
      printed.mockRestore()
      client.disconnect()
    }
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
