import { afterAll, describe, expect, test } from 'vitest'
import { Cluster, type Redis } from 'ioredis'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import { MODES, closeAll, connect, owner, request, sleep, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

/** Count wake calls for `key` on `store`. */
function counter() {
  const state = { wakes: 0 }
  return { state, wake: () => void state.wakes++ }
}

describe.each(MODES)('onRelease on %s', (mode) => {
  const store = storeFor(mode, { subscriberIdleMs: 50 })
  const raw = connect(mode)

  /** Hold `key` and register a waiting manager, as a refused manager would before listening. */
  async function heldWithWaiter(key: string) {
    const holder = request(key)
    expect((await store.acquire(holder)).granted).toBe(true)
    expect((await store.acquire(request(key, { clientId: 'waiter', waiting: true }))).granted).toBe(false)
    return holder
  }

  test('wakes once when the subscription is active, then on release', async () => {
    const key = uniqueKey('wake')
    const holder = await heldWithWaiter(key)
    const { state, wake } = counter()
    const stop = store.onRelease(key, wake)
    await until(() => state.wakes === 1)
    await sleep(50)
    expect(state.wakes).toBe(1)
    await store.release(key, holder.owner)
    await until(() => state.wakes === 2)
    stop()
  })

  test('wakes on steal and on forceRelease', async () => {
    const key = uniqueKey('wake')
    await heldWithWaiter(key)
    const { state, wake } = counter()
    const stop = store.onRelease(key, wake)
    await until(() => state.wakes === 1)
    await store.steal({ key, owner: owner(), ttlMs: 5000, clientId: 'thief' })
    await until(() => state.wakes === 2)
    expect(await store.forceRelease(key)).toBe(true)
    await until(() => state.wakes === 3)
    stop()
  })

  test('a release wakes only listeners of that lock, and a late listener still gets its first wake', async () => {
    const [a, b] = [uniqueKey('a'), uniqueKey('b')]
    const holder = await heldWithWaiter(a)
    const onA = counter()
    const onB = counter()
    const stopA = store.onRelease(a, onA.wake)
    const stopB = store.onRelease(b, onB.wake)
    await until(() => onA.state.wakes === 1 && onB.state.wakes === 1)
    const late = counter()
    const stopLate = store.onRelease(a, late.wake)
    await until(() => late.state.wakes === 1)

    await store.release(a, holder.owner)
    await until(() => onA.state.wakes === 2 && late.state.wakes === 2)
    await sleep(50)
    expect(onB.state.wakes).toBe(1)
    stopA()
    stopB()
    stopLate()
  })

  test('an unsubscribed listener is not called; the connection closes when nobody listens', async () => {
    const key = uniqueKey('wake')
    const holder = await heldWithWaiter(key)
    const { state, wake } = counter()
    const stop = store.onRelease(key, wake)
    await until(() => state.wakes === 1 && store.subscribed)
    stop()
    await store.release(key, holder.owner)
    await until(() => !store.subscribed)
    expect(state.wakes).toBe(1)
    expect(await subscribers(raw, lockKeys(key, '').channel as string)).toBe(0)
  })

  test('an uncontended release publishes nothing', async () => {
    const key = uniqueKey('quiet')
    const channel = lockKeys(key, '').channel as string
    const listener = raw instanceof Cluster ? raw.duplicate() : raw.duplicate()
    let messages = 0
    listener.on('message', () => void messages++)
    await listener.subscribe(channel)
    const r = request(key)
    await store.acquire(r)
    await store.release(key, r.owner)
    // Contended: a manager asked while it was held.
    await heldWithWaiter(key).then((holder) => store.release(key, holder.owner))
    await until(() => messages === 1)
    await sleep(50)
    expect(messages).toBe(1)
    listener.disconnect()
  })

  test('a listener that never asked for the lock is woken too; once it stops, releases publish nothing', async () => {
    const key = uniqueKey('listener')
    const channel = lockKeys(key, '').channel as string
    const spy = raw instanceof Cluster ? raw.duplicate() : raw.duplicate()
    let messages = 0
    spy.on('message', () => void messages++)
    await spy.subscribe(channel)

    const { state, wake } = counter()
    const stop = store.onRelease(key, wake)
    await until(() => state.wakes === 1)
    const r = request(key)
    await store.acquire(r)
    await store.release(key, r.owner)
    await until(() => state.wakes === 2 && messages === 1)

    stop()
    await sleep(50)
    const again = request(key)
    await store.acquire(again)
    await store.release(key, again.owner)
    await sleep(50)
    expect(messages).toBe(1)
    spy.disconnect()
  })

  test('keys that are not well-formed UTF-16 get their own channel', async () => {
    const suffix = uniqueKey('')
    const lone = `\uD800${suffix}`
    const replacement = `\uFFFD${suffix}`
    const holder = await heldWithWaiter(lone)
    await heldWithWaiter(replacement)
    const onLone = counter()
    const onReplacement = counter()
    const stops = [store.onRelease(lone, onLone.wake), store.onRelease(replacement, onReplacement.wake)]
    await until(() => onLone.state.wakes === 1 && onReplacement.state.wakes === 1)
    await store.release(lone, holder.owner)
    await until(() => onLone.state.wakes === 2)
    await sleep(50)
    expect(onReplacement.state.wakes).toBe(1)
    stops.forEach((stop) => stop())
  })

  test('releases on every Cluster node reach the one subscriber connection', async () => {
    // Enough keys that their slots fall on every master.
    const keys = Array.from({ length: 12 }, () => uniqueKey('spread'))
    const holders = await Promise.all(keys.map(heldWithWaiter))
    const counters = keys.map(() => counter())
    const stops = keys.map((key, i) => store.onRelease(key, counters[i]!.wake))
    await until(() => counters.every((c) => c.state.wakes === 1))
    await Promise.all(keys.map((key, i) => store.release(key, holders[i]!.owner)))
    await until(() => counters.every((c) => c.state.wakes === 2))
    stops.forEach((stop) => stop())
  })

  // Standalone only: killing a client connection by name (CLIENT KILL) reaches one server, and a
  // Cluster's subscriber is a node connection that ioredis re-routes on its own.
  test.runIf(mode === 'standalone')('wakes every listener after the subscriber connection is lost and restored', async () => {
    const named = storeFor(mode, {}, { connectionName: `cachelock-wake-${uniqueKey('')}` })
    const key = uniqueKey('reconnect')
    const { state, wake } = counter()
    const stop = named.onRelease(key, wake)
    await until(() => state.wakes === 1)
    const name = (named.client as Redis).options.connectionName as string
    const list = (await (raw as Redis).client('LIST')) as string
    const id = list
      .split('\n')
      .find((line) => line.includes(`name=${name} `) && / sub=1 /.test(line))
      ?.match(/^id=(\d+)/)?.[1]
    expect(id).toBeDefined()
    await (raw as Redis).client('KILL', 'ID', id as string)
    await until(() => state.wakes === 2, 5000)
    stop()
  })
})

/** How many connections are subscribed to `channel`, across every node. */
async function subscribers(client: Redis | Cluster, channel: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  let total = 0
  for (const node of nodes) {
    const reply = (await node.pubsub('NUMSUB', channel)) as [string, number]
    total += Number(reply[1])
  }
  return total
}
