import { afterAll, describe, expect, test } from 'vitest'
import type { Handover } from '../../../src/store.js'
import { MODES, closeAll, request, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

/**
 * The release hands the lock to the head of the queue in the same script (see `release.ts`): the
 * waiter's store learns it from the published message, with a bound by its own clock on how long
 * the short claim surely lasts. Holder and waiter are separate clients, like two app servers.
 */
describe.each(MODES)('handover on release, %s', (mode) => {
  const holderStore = storeFor(mode, { handOver: true })
  const waiterStore = storeFor(mode)

  /** A holder, and a waiter (client `w`) that was refused twice, so it parked its request. */
  async function parkedWaiter(key: string) {
    const held = request(key)
    const first = await holderStore.acquire(held)
    expect(first.granted).toBe(true)
    expect((await waiterStore.acquire(request(key, { clientId: 'w' }))).granted).toBe(false)
    const parked = request(key, { clientId: 'w', waiting: true })
    const sentAt = performance.now()
    expect((await waiterStore.acquire(parked)).granted).toBe(false)
    return { held, heldToken: first.granted ? first.fencingToken : 0, parked, sentAt, answeredAt: performance.now() }
  }

  test('the waiter holds the lock when its wake-up arrives, with a token, for a bounded claim', async () => {
    const key = uniqueKey('handover')
    const { held, heldToken, parked, sentAt, answeredAt } = await parkedWaiter(key)
    const wakes: (Handover | undefined)[] = []
    const stop = waiterStore.onRelease(key, (handover) => wakes.push(handover))
    await until(() => wakes.length > 0) // subscribed
    await holderStore.release(key, held.owner)
    await until(() => wakes.some((w) => w !== undefined))
    stop()
    const handover = wakes.find((w) => w !== undefined)!
    expect(handover.owner).toBe(parked.owner)
    expect(handover.fencingToken).toBeGreaterThan(heldToken)
    // Trusted from the refused attempt's send time, for min(liveness, grace) = min(300, 500) ms.
    expect(handover.heldUntil).toBeGreaterThanOrEqual(sentAt + 300)
    expect(handover.heldUntil).toBeLessThanOrEqual(answeredAt + 300)
    expect((await waiterStore.holders(key)).map((h) => h.owner)).toEqual([parked.owner])
    // Another client is refused meanwhile.
    expect((await holderStore.acquire(request(key, { clientId: 'other' }))).granted).toBe(false)
    expect(await waiterStore.release(key, parked.owner)).toBe(true)
  })

  test("another client's store sees the handover without a bound of its own", async () => {
    const key = uniqueKey('handover-other')
    const { held } = await parkedWaiter(key)
    const bystander = storeFor(mode)
    const wakes: (Handover | undefined)[] = []
    const stop = bystander.onRelease(key, (handover) => wakes.push(handover))
    await until(() => wakes.length > 0)
    await holderStore.release(key, held.owner)
    await until(() => wakes.some((w) => w !== undefined))
    stop()
    expect(wakes.find((w) => w !== undefined)?.heldUntil).toBeUndefined()
  })

  test('a waiter whose wake-up was lost takes the handed lock on its next attempt', async () => {
    const key = uniqueKey('handover-lost')
    const { held, heldToken } = await parkedWaiter(key)
    await holderStore.release(key, held.owner)
    const again = request(key, { clientId: 'w', waiting: true })
    const result = await waiterStore.acquire(again)
    expect(result.granted && result.fencingToken > heldToken).toBe(true)
    expect((await waiterStore.holders(key)).map((h) => h.owner)).toEqual([again.owner])
    expect(await waiterStore.release(key, again.owner)).toBe(true)
  })

  test('once renewed, a handed lock is the holder’s: a later attempt of the same manager is refused', async () => {
    const key = uniqueKey('handover-confirmed')
    const { held, parked } = await parkedWaiter(key)
    await holderStore.release(key, held.owner)
    expect(await waiterStore.extend(key, parked.owner, 10_000)).toBe(true)
    expect((await waiterStore.acquire(request(key, { clientId: 'w', waiting: true }))).granted).toBe(false)
    expect((await waiterStore.holders(key)).map((h) => h.owner)).toEqual([parked.owner])
    expect(await waiterStore.release(key, parked.owner)).toBe(true)
  })
})
