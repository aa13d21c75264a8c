import { expect, test } from 'vitest'
import { InvalidLockArgumentError, LockNotAcquiredError } from '@cachelock/core'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

onEveryDatabaseAndStore('nesting', (setup) => {
  test('a nested withLock on the same record does not deadlock, reuses the transaction and sees its writes', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const result = await db.order.withLock(id, async (_, outer) => {
      await outer.tx.order.update({ where: { id }, data: { total: 1 } })
      // Through the client or through tx: both join.
      return db.order.withLock(
        id,
        async (order, inner) => {
          expect(inner.tx).toBe(outer.tx)
          expect(inner.lock).toBe(outer.lock)
          expect(order.total).toBe(1)
          return outer.tx.order.withLock(id, async (again) => again.total + 1, { timeout: 100 })
        },
        { timeout: 100 },
      )
    })
    expect(result).toBe(2)
    expect(await db.order.isLocked(id)).toBe(false)
  })

  test('in another flow, the same record waits for the holder', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const events: string[] = []
    const holder = db.order.withLock(id, async () => {
      events.push('holder in')
      await sleep(60)
      events.push('holder out')
    })
    await sleep(10)
    await db.order.withLock(id, async () => events.push('other'))
    await holder
    expect(events).toEqual(['holder in', 'holder out', 'other'])
  })

  test('a nested withLock on another record joins the transaction and holds its lock until the commit', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.product.create({ data: { sku: 'A-1', stock: 5 } })
    const events: string[] = []
    let nestedReturned!: () => void
    const returned = new Promise<void>((resolve) => (nestedReturned = resolve))
    const outer = db.order.withLock(id, async (_, { tx }) => {
      await db.product.withLock('A-1', async (product, inner) => {
        expect(inner.tx).toBe(tx)
        await inner.tx.product.update({ where: { sku: 'A-1' }, data: { stock: product.stock - 1 } })
      })
      // The nested call has returned, but its write is not committed yet: its lock must hold.
      expect(await db.product.isLocked('A-1')).toBe(true)
      nestedReturned()
      await sleep(50)
      events.push('outer commits')
    })
    await returned
    // Another flow (this test's own) asks for the product now: it must wait for the commit.
    await db.product.withLock('A-1', async (product) => events.push(`other read stock ${product.stock}`))
    await outer
    expect(events).toEqual(['outer commits', 'other read stock 4'])
    expect(await db.product.isLocked('A-1')).toBe(false)
  })

  test('when the outer transaction rolls back, the nested call’s writes roll back too, and its lock is released', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.product.create({ data: { sku: 'A-1', stock: 5 } })
    await expect(
      db.order.withLock(id, async () => {
        await db.product.withLock('A-1', (product, { tx }) =>
          tx.product.update({ where: { sku: 'A-1' }, data: { stock: product.stock - 1 } }),
        )
        throw new Error('abandon the order')
      }),
    ).rejects.toThrow('abandon the order')
    expect((await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).stock).toBe(5)
    expect(await db.product.isLocked('A-1')).toBe(false)
  })

  test('a nested call on a missing record rejects; its lock stays with the transaction until it ends', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.order.withLock(id, async () => {
      await expect(db.product.withLock('nope', async () => 'never')).rejects.toMatchObject({ code: 'P2025' })
      expect(await db.product.isLocked('nope')).toBe(true)
    })
    expect(await db.product.isLocked('nope')).toBe(false)
  })

  test('branches of a Promise.all inside a holder share its locks instead of waiting for each other', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.product.create({ data: { sku: 'A-1', stock: 5 } })
    const names = await db.order.withLock(id, async () =>
      Promise.all([
        db.order.withLock(id, async (_, { lock }) => lock.name, { timeout: 5_000 }),
        db.product.withLock('A-1', async (_, { lock }) => lock, { timeout: 5_000 }),
        db.product.withLock('A-1', async (_, { lock }) => lock, { timeout: 5_000 }),
      ]),
    )
    expect(names[0]).toBe(`order:id:${id}`)
    expect(names[1]).toBe(names[2])
  })

  test('work that outlives withLock neither joins its finished transaction nor keeps its lock', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    let late: Promise<unknown> | undefined
    let outerTx: unknown
    await db.order.withLock(id, async (_, { tx }) => {
      outerTx = tx
      // A generous timeout: the late call waits for the outer COMMIT and release, slow on a loaded
      // machine; a lock the outer call kept would still make it time out.
      late = sleep(30).then(() =>
        db.order.withLock(id, async (order, inner) => inner.tx !== outerTx && order.id === id, { timeout: 10_000 }),
      )
    })
    expect(await late).toBe(true)
  })

  test('lock() inside withLock on the same record refuses instead of waiting for itself', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.order.withLock(id, async () => {
      await expect(db.order.lock(id)).rejects.toBeInstanceOf(LockNotAcquiredError)
    })
  })

  test('a lock() handle is a plain lock: withLock waits for it, except inside handle.run(fn), which reuses it', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const handle = await db.order.lock(id)
    await expect(db.order.withLock(id, () => 'never', { timeout: 50 })).rejects.toBeInstanceOf(LockNotAcquiredError)
    const result = await handle.run(() =>
      db.order.withLock(id, async (order, { tx, lock }) => {
        expect(lock).toBe(handle)
        await tx.order.update({ where: { id }, data: { status: 'paid' } })
        return order.id
      }),
    )
    expect(result).toBe(id)
    expect(handle.held).toBe(true)
    await handle.release()
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('paid')
  })

  test('lock() racing a nested withLock of the same flow on that record refuses at once instead of waiting for itself', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const { sku } = await db.product.create({ data: { sku: `race-${id}`, stock: 1 } })
    const started = performance.now()
    const [nested, handle] = await db.order.withLock(id, () =>
      Promise.allSettled([db.product.withLock(sku, () => sleep(20)), db.product.lock(sku, { timeout: 10_000 })]),
    )
    expect(nested.status).toBe('fulfilled')
    expect(handle.status === 'rejected' && handle.reason).toBeInstanceOf(LockNotAcquiredError)
    expect(performance.now() - started).toBeLessThan(5000) // refused, not timed out (10 s)
  })

  test('withLock on a transaction the caller started is refused: its lock would end before that transaction commits', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const error = await db.$transaction((tx) => tx.order.withLock(id, async () => 'never')).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error).toMatchObject({ code: 'LOCK_NOT_SUPPORTED', argument: 'this' })
    expect(await db.order.isLocked(id)).toBe(false)
  })
})
