import diagnostics from 'node:diagnostics_channel'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { LockNotAcquiredError, LockOrderError, channelNames, type LockOrderEvent } from '@cachelock/core'
import { extend, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

let events: LockOrderEvent[] = []
const listen = (message: unknown) => events.push(message as LockOrderEvent)
beforeEach(() => {
  events = []
  diagnostics.subscribe(channelNames.lockOrder, listen)
})
afterEach(() => {
  diagnostics.unsubscribe(channelNames.lockOrder, listen)
})

onEveryDatabaseAndStore('lock_order', (setup) => {
  /** Flow 1 takes order b then a; flow 2 takes a then b: the classic deadlock. */
  async function crossedFlows(strictLockOrder: boolean) {
    const { db } = setup()
    const a = await db.order.create({ data: {} })
    const b = await db.order.create({ data: {} })
    const nested = (outer: number, inner: number) =>
      db.order.withLock(
        outer,
        async () => {
          await sleep(40) // both flows now hold their first lock
          return db.order.withLock(inner, async () => 'done', { timeout: 300, transaction: false, strictLockOrder })
        },
        { transaction: false },
      )
    const started = performance.now()
    const outcomes = await Promise.allSettled([nested(b.id, a.id), nested(a.id, b.id)])
    return { outcomes, ms: performance.now() - started, a, b }
  }

  test('strictLockOrder: a lock requested inside one that sorts after it throws LockOrderError at once, and the other flow goes on', async () => {
    const { outcomes, a, b } = await crossedFlows(true)
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.any(LockOrderError) })
    expect(outcomes[0]).toMatchObject({ reason: { lockName: `order:id:${a.id}`, heldName: `order:id:${b.id}` } })
    // Flow 2 got its second lock: flow 1 let go at once instead of deadlocking until the timeout
    // (which would have rejected both with LockNotAcquiredError, as the next test shows).
    expect(outcomes[1]).toMatchObject({ status: 'fulfilled', value: 'done' })
    expect(events).toEqual([{ name: `order:id:${a.id}`, heldName: `order:id:${b.id}`, thrown: true }])
  })

  test('without it, the same two flows deadlock until a timeout gives up (the test above can fail); the event still tells', async () => {
    const { outcomes, ms } = await crossedFlows(false)
    expect(outcomes.some((outcome) => outcome.status === 'rejected' && outcome.reason instanceof LockNotAcquiredError)).toBe(true)
    expect(ms).toBeGreaterThanOrEqual(300)
    expect(events).toMatchObject([{ thrown: false }])
  })

  test('several records in one withLock are taken in order and never trip it', async () => {
    const { prisma, locks } = setup()
    const db = extend(prisma, locks, { strictLockOrder: true })
    const a = await db.order.create({ data: {} })
    const b = await db.order.create({ data: {} })
    expect(await db.order.withLock([b.id, a.id], async (orders) => orders.map((order) => order.id))).toEqual([b.id, a.id])
    expect(events).toEqual([])
  })

  test('set on the extension, it applies to every call; a call can turn it off', async () => {
    const { prisma, locks } = setup()
    const db = extend(prisma, locks, { strictLockOrder: true })
    const a = await db.order.create({ data: {} })
    const b = await db.order.create({ data: {} })
    await expect(db.order.withLock(b.id, () => db.order.withLock(a.id, async () => 'inner'))).rejects.toBeInstanceOf(LockOrderError)
    expect(await db.order.withLock(b.id, () => db.order.withLock(a.id, async () => 'inner', { strictLockOrder: false }))).toBe('inner')
    expect(events.map((event) => event.thrown)).toEqual([true, false])
  })

  test('locks that earlier nested calls took for the transaction count too', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.product.create({ data: { sku: 'A', stock: 1 } })
    await db.product.create({ data: { sku: 'B', stock: 1 } })
    const error = await db.order
      .withLock(id, async () => {
        await db.product.withLock('B', async () => undefined) // returns, but product B stays locked until the commit
        return db.product.withLock('A', async () => 'never', { strictLockOrder: true })
      })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LockOrderError)
    expect(error).toMatchObject({ lockName: 'product:sku:A', heldName: 'product:sku:B' })
    expect(events).toEqual([{ name: 'product:sku:A', heldName: 'product:sku:B', thrown: true }])
    expect(await db.product.isLocked('A')).toBe(false)
    expect(await db.product.isLocked('B')).toBe(false)
  })
})
