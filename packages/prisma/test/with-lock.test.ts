import { expect, test } from 'vitest'
import { LockNotAcquiredError } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

onEveryDatabaseAndStore('with_lock', (setup) => {
  test('20 concurrent read-modify-writes under withLock come out exact', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.order.withLock(id, async (order, { tx }) => {
          await sleep(3) // the gap between read and write in which unlocked writers collide
          await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
        }),
      ),
    )
    expect((await db.order.findUniqueOrThrow({ where: { id } })).total).toBe(20)
  })

  test('without the lock, the same 20 read-modify-writes lose updates (the test above can fail)', async () => {
    const { prisma } = setup()
    const { id } = await prisma.order.create({ data: {} })
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const order = await prisma.order.findUniqueOrThrow({ where: { id } })
        await sleep(3)
        await prisma.order.update({ where: { id }, data: { total: order.total + 1 } })
      }),
    )
    expect((await prisma.order.findUniqueOrThrow({ where: { id } })).total).toBeLessThan(20)
  })

  test('reads the record fresh inside the lock, returns fn’s result, releases', async () => {
    const { db, locks } = setup()
    const { id } = await db.order.create({ data: { total: 5 } })
    const seen: number[] = []
    const first = db.order.withLock(id, async (order, { tx }) => {
      seen.push(order.total)
      await sleep(30)
      return tx.order.update({ where: { id }, data: { total: 6 } })
    })
    await sleep(5)
    // Requested while the first holds: must see what the first committed.
    const second = db.order.withLock(id, async (order, { lock }) => {
      seen.push(order.total)
      expect(lock.name).toBe(`order:id:${id}`)
      return 'second'
    })
    expect((await first).total).toBe(6)
    expect(await second).toBe('second')
    expect(seen).toEqual([5, 6])
    expect(await locks.isLocked(`order:id:${id}`)).toBe(false)
  })

  test('a configured field: models.Product.by = sku', async () => {
    const { db, locks } = setup()
    await db.product.create({ data: { sku: 'A-1', stock: 3 } })
    const stock = await db.product.withLock('A-1', async (product, { lock }) => {
      expect(lock.name).toBe('product:sku:A-1')
      expect(await locks.isLocked('product:sku:A-1')).toBe(true)
      return product.stock
    })
    expect(stock).toBe(3)
  })

  test('any unique where, and a compound unique, name the same lock the record key would', async () => {
    const { db } = setup()
    const order = await db.order.create({ data: {} })
    const product = await db.product.create({ data: { sku: 'B-2', stock: 1 } })
    await db.orderItem.create({ data: { orderId: order.id, line: 2, qty: 1 } })
    expect(await db.product.withLock({ sku: 'B-2' }, async (_, { lock }) => lock.name)).toBe('product:sku:B-2')
    expect(await db.product.withLock({ id: product.id }, async (_, { lock }) => lock.name)).toBe(`product:id:${product.id}`)
    const itemLock = await db.orderItem.withLock({ orderId_line: { orderId: order.id, line: 2 } }, async (item, { lock }) => {
      expect(item.qty).toBe(1)
      return lock.name
    })
    expect(itemLock).toBe(recordLockName('OrderItem', { orderId: order.id, line: 2 }))
    expect(itemLock).toBe(`orderItem:line+orderId:["2","${order.id}"]`)
  })

  test('a missing record rejects with Prisma’s P2025 before fn runs, and leaves no lock', async () => {
    const { db, locks } = setup()
    let ran = false
    const error = await db.order
      .withLock(404, async () => {
        ran = true
      })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      name: 'PrismaClientKnownRequestError',
      code: 'P2025',
      meta: { modelName: 'Order', lockName: 'order:id:404' },
    })
    expect((error as Error).message).toMatch(/No Order record found where \{"id":404\}: withLock did not call fn/)
    expect(ran).toBe(false)
    expect(await locks.isLocked('order:id:404')).toBe(false)
  })

  test('several records: locked in one order whatever order they are given in, no deadlock, records in the caller’s order', async () => {
    const { db } = setup()
    const a = await db.order.create({ data: {} })
    const b = await db.order.create({ data: {} })
    const move = (from: number, to: number) =>
      db.order.withLock(
        [from, to],
        async ([source, target], { tx, locks }) => {
          expect([source.id, target.id]).toEqual([from, to])
          expect(locks.map((lock) => lock.name)).toEqual([`order:id:${from}`, `order:id:${to}`])
          await sleep(1)
          await tx.order.update({ where: { id: from }, data: { total: source.total - 1 } })
          await tx.order.update({ where: { id: to }, data: { total: target.total + 1 } })
        },
        { timeout: 10_000 },
      )
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? move(a.id, b.id) : move(b.id, a.id))))
    const totals = await db.order.findMany({ orderBy: { id: 'asc' }, select: { total: true } })
    expect(totals).toEqual([{ total: 0 }, { total: 0 }])
  })

  test('the lock name is shared with a plain core lock on the same row', async () => {
    const { db, locks } = setup()
    const { id } = await db.order.create({ data: {} })
    const events: string[] = []
    const core = locks.withLock(recordLockName('order', { id }), async () => {
      events.push('core start')
      await sleep(60)
      events.push('core end')
    })
    await sleep(10)
    await db.order.withLock(id, async () => events.push('prisma'))
    await core
    expect(events).toEqual(['core start', 'core end', 'prisma'])
  })

  test('lock() hands out the record’s lock; isLocked() sees it; withLock waits for it', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    expect(await db.order.isLocked(id)).toBe(false)
    {
      await using handle = await db.order.lock(id, { timeout: 2000 })
      expect(handle.name).toBe(`order:id:${id}`)
      expect(await db.order.isLocked({ id })).toBe(true)
      await expect(db.order.withLock(id, async () => 'never', { timeout: 50 })).rejects.toBeInstanceOf(LockNotAcquiredError)
      await expect(db.order.lock(id, { ifAvailable: true })).rejects.toBeInstanceOf(LockNotAcquiredError)
    }
    expect(await db.order.isLocked(id)).toBe(false)
    expect(await db.order.withLock(id, async () => 'now')).toBe('now')
  })

  test('fn throwing rolls its writes back and releases the lock', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const failure = new Error('payment declined')
    await expect(
      db.order.withLock(id, async (_, { tx }) => {
        await tx.order.update({ where: { id }, data: { status: 'paid' } })
        throw failure
      }),
    ).rejects.toBe(failure)
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
    expect(await db.order.isLocked(id)).toBe(false)
  })

  test('transaction: false runs fn on the client itself, still under the lock', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await expect(
      db.order.withLock(
        id,
        async (_, { tx }) => {
          await tx.order.update({ where: { id }, data: { status: 'paid' } })
          throw new Error('after the write')
        },
        { transaction: false },
      ),
    ).rejects.toThrow('after the write')
    // Nothing to roll back without a transaction: the write stays.
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('paid')
    expect(await db.order.isLocked(id)).toBe(false)
  })

  test('core lock options pass through (ttl, ifAvailable, signal)', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const holding = db.order.withLock(
      id,
      async (_, { lock }) => {
        expect(lock.ttl).toBe(4321)
        await sleep(100)
      },
      { ttl: 4321 },
    )
    await sleep(10)
    await expect(db.order.withLock(id, async () => 0, { ifAvailable: true })).rejects.toBeInstanceOf(LockNotAcquiredError)
    await expect(db.order.withLock(id, async () => 0, { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ name: 'TimeoutError' })
    await holding
  })
})
