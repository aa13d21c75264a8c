import { afterAll, describe, expect, test } from 'vitest'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import type { Handover } from '../../../src/store.js'
import { closeAll, connect, owner, request, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

/**
 * What a store created without options does, seen from Redis and from other stores on the same
 * server: each store is a separate client, like separate app servers.
 */
describe('RedisStore defaults, standalone', () => {
  const raw = connect('standalone')

  /** `key` held by `holder`, and a waiting exclusive request of `waiter` refused twice (so parked). */
  async function parkedOn(key: string, holder: ReturnType<typeof storeFor>, waiter: ReturnType<typeof storeFor>) {
    const held = request(key)
    expect((await holder.acquire(held)).granted).toBe(true)
    expect((await waiter.acquire(request(key, { clientId: 'w' }))).granted).toBe(false)
    const parked = request(key, { clientId: 'w', waiting: true })
    expect((await waiter.acquire(parked)).granted).toBe(false)
    return { held, parked }
  }

  test('a release does not hand the lock over unless handOver is set: the lock is left free', async () => {
    const holder = storeFor('standalone')
    const waiter = storeFor('standalone')
    const key = uniqueKey('no-handover')
    const { held } = await parkedOn(key, holder, waiter)
    expect(await holder.release(key, held.owner)).toBe(true)
    expect(await holder.holders(key)).toEqual([])
  })

  test('the subscriber connection stays open about 2 s after the last listener leaves (subscriberIdleMs), then closes', async () => {
    const store = storeFor('standalone')
    const stop = store.onRelease(uniqueKey('idle'), () => undefined)
    await until(() => store.subscribed, 10_000)
    stop()
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(store.subscribed).toBe(true)
    await until(() => !store.subscribed, 5000)
  })

  test('a store remembers its parked requests per lock: a handover of the first of two still says how long it holds', async () => {
    const holder = storeFor('standalone', { handOver: true })
    const waiter = storeFor('standalone')
    const [first, second] = [uniqueKey('parked-a'), uniqueKey('parked-b')]
    const { held, parked } = await parkedOn(first, holder, waiter)
    const other = await parkedOn(second, holder, waiter)
    const wakes: (Handover | undefined)[] = []
    const stop = waiter.onRelease(first, (handover) => wakes.push(handover))
    await until(() => wakes.length > 0, 10_000) // subscribed
    expect(await holder.release(first, held.owner)).toBe(true)
    await until(() => wakes.some((wake) => wake !== undefined), 10_000)
    stop()
    const handover = wakes.find((wake) => wake !== undefined)!
    expect(handover.owner).toBe(parked.owner)
    expect(handover.heldUntil).toBeTypeOf('number')
    await waiter.release(first, parked.owner)
    await holder.release(second, other.held.owner)
    await waiter.release(second, other.parked.owner)
  })

  test('each store listens under its own id: one that stops listening leaves the other woken', async () => {
    const holder = storeFor('standalone')
    const [a, b] = [storeFor('standalone'), storeFor('standalone')]
    const key = uniqueKey('listeners')
    const alive = lockKeys(key, '').alive as string
    const held = request(key)
    expect((await holder.acquire(held)).granted).toBe(true)
    let aWoken = 0
    let bWoken = 0
    const stopA = a.onRelease(key, () => aWoken++)
    const stopB = b.onRelease(key, () => bWoken++)
    await until(() => aWoken > 0 && bWoken > 0, 10_000) // both subscribed
    expect(await raw.zcard(alive)).toBe(2)
    stopA()
    const before = bWoken
    await holder.release(key, held.owner)
    await until(() => bWoken > before, 10_000)
    stopB()
  })

  test('a steal keeps the fencing counter for fenceTtlFactor (10) times the ttl', async () => {
    const store = storeFor('standalone')
    const key = uniqueKey('steal-fence')
    const thief = owner()
    const { fencingToken } = await store.steal({ key, owner: thief, ttlMs: 10_000, clientId: 'c0' })
    const fence = lockKeys(key, '').fence as string
    expect(Number(await raw.get(fence))).toBe(fencingToken)
    expect(await raw.pttl(fence)).toBeGreaterThan(10_000)
    await store.release(key, thief)
  })
})
