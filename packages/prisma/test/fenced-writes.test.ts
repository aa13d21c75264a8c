import { expect, test } from 'vitest'
import { LockError, LockLostError } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { extendUnfenced, onEveryDatabaseAndStore, type Extended } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

/**
 * The hard way: holder A stalls past its ttl (no renewal), B takes the lock and writes, then A
 * wakes and writes what it computed before the stall. Without a transaction nothing can roll A
 * back: only the fence stands between A's stale write and B's.
 */
async function staleHolderScenario(db: Pick<Extended, 'order'>, id: number) {
  const a = db.order.withLock(
    id,
    async (order, { tx }) => {
      await sleep(300) // a stall longer than the ttl: GC pause, slow API call, paused VM
      await tx.order.update({ where: { id }, data: { status: 'written by A', total: order.total + 1 } })
    },
    { ttl: 100, autoExtend: false, transaction: false },
  )
  a.catch(() => undefined) // handled by the caller, possibly after it settles
  await sleep(20)
  await db.order.withLock(id, async (order, { tx }) => {
    await tx.order.update({ where: { id }, data: { status: 'written by B', total: order.total + 10 } })
  })
  return a
}

onEveryDatabaseAndStore('fenced_writes', (setup) => {
  test('a stale holder’s write is refused by the fence column, and the newer holder’s write survives', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const error = await staleHolderScenario(db, id).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LockLostError)
    expect((error as Error).message).toMatch(/Order\.update wrote nothing: lock "order:id:\d+" was lost \(expired\)/)
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'written by B', total: 10 })
  })

  test('without the fence column the same scenario loses the newer holder’s write (the test above can fail)', async () => {
    const { prisma, locks } = setup()
    const db = extendUnfenced(prisma, locks)
    const { id } = await db.order.create({ data: {} })
    // The lock loss is still reported, after the fact: the stale write has already landed.
    await expect(staleHolderScenario(db, id)).rejects.toBeInstanceOf(LockLostError)
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'written by A', total: 1 })
  })

  test('in a transaction, the stale holder commits nothing even if fn swallows the error; B’s write survives', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const caught: unknown[] = []
    let fnEnded!: () => void
    const ended = new Promise<void>((resolve) => (fnEnded = resolve))
    const a = db.order.withLock(
      id,
      async (order, { tx }) => {
        await sleep(300)
        try {
          await tx.order.update({ where: { id }, data: { total: order.total + 1, note: 'A was here' } })
        } catch (error) {
          caught.push(error) // swallowed: the transaction must still not commit
        }
        fnEnded()
      },
      { ttl: 100, autoExtend: false },
    )
    await sleep(20)
    const b = db.order.withLock(id, (order, { tx }) => tx.order.update({ where: { id }, data: { total: order.total + 10 } }))
    const [outcomeA, outcomeB] = await Promise.allSettled([a, b])
    expect(outcomeA).toMatchObject({ status: 'rejected', reason: expect.any(LockLostError) })
    expect(outcomeB).toMatchObject({ status: 'fulfilled' })
    await ended
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ total: 10, note: null })
    // A claimed the row first thing in its transaction; its transaction rolled back when its lock
    // expired (issue 13 §3), releasing the row to B's claim (which waits in the database if it
    // comes first), and A's later write was refused with the loss: fn learns of it at the write
    // (before calling a payment API, say), not only at commit.
    expect(caught).toEqual([outcomeA.status === 'rejected' && outcomeA.reason])
  })

  test('update, updateMany, upsert and delete on the locked row carry the token, through tx and the client alike', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const fence = async () => (await db.order.findUniqueOrThrow({ where: { id } })).lockFence
    const tokens: bigint[] = []
    await db.order.withLock(id, async (_, { tx, lock }) => {
      tokens.push(BigInt(lock.fencingToken))
      await tx.order.update({ where: { id }, data: { total: 1 } })
    })
    expect(await fence()).toBe(tokens[0])
    await db.order.withLock(id, async (_, { tx, lock }) => {
      tokens.push(BigInt(lock.fencingToken))
      expect(await tx.order.updateMany({ where: { id, status: 'new' }, data: { total: 2 } })).toEqual({ count: 1 })
    })
    expect(await fence()).toBe(tokens[1])
    await db.order.withLock(id, async (_, { lock }) => {
      tokens.push(BigInt(lock.fencingToken))
      // Through the client instead of tx (outside the transaction): fenced all the same.
      const upserted = await db.order.upsert({ where: { id }, update: { total: 3 }, create: { total: -1 } })
      expect(upserted).toMatchObject({ id, total: 3 })
    })
    expect(await fence()).toBe(tokens[2])
    expect(await db.order.count()).toBe(1)
    expect(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!).toBe(true)
    await db.order.withLock(id, (_, { tx }) => tx.order.delete({ where: { id } }))
    expect(await db.order.count()).toBe(0)
  })

  test('inside a transaction, a write to the locked row through db runs in the transaction, not behind its row lock', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const error = await db.order
      .withLock(
        id,
        async () => {
          // On PostgreSQL the claim holds the row's lock in withLock's transaction: sent on another
          // connection, this write would wait for it until the transaction timed out.
          await db.order.update({ where: { id }, data: { total: 5 } })
          throw new Error('fn failed')
        },
        { transaction: { timeout: 5000 } },
      )
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ message: 'fn failed' })
    expect((await db.order.findUniqueOrThrow({ where: { id } })).total).toBe(0)
  })

  test('the same through a withLock nested in one without a transaction: the write runs in the inner transaction', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const error = await db.order.withLock(
      id,
      // The nested call reuses the outer call's lock (same token) and starts a transaction of its own.
      () =>
        db.order
          .withLock(
            id,
            async () => {
              await db.order.update({ where: { id }, data: { total: 5 } })
              throw new Error('fn failed')
            },
            { transaction: { timeout: 5000 } },
          )
          .catch((caught: unknown) => caught),
      { transaction: false },
    )
    expect(error).toMatchObject({ message: 'fn failed' })
    expect((await db.order.findUniqueOrThrow({ where: { id } })).total).toBe(0)
  })

  test('a stale upsert and a stale delete are refused too (and the upsert creates no second row)', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const stale = (write: 'upsert' | 'delete') =>
      db.order.withLock(
        id,
        async (_, { tx }) => {
          await sleep(300)
          if (write === 'upsert')
            await tx.order.upsert({ where: { id }, update: { status: 'stale upsert' }, create: { status: 'stale create' } })
          else await tx.order.delete({ where: { id } })
        },
        { ttl: 100, autoExtend: false, transaction: false },
      )
    const upsert = stale('upsert')
    const remove = stale('delete')
    upsert.catch(() => undefined) // awaited below, possibly after they settle
    remove.catch(() => undefined)
    await sleep(20)
    await db.order.withLock(id, (_, { tx }) => tx.order.update({ where: { id }, data: { status: 'fresh' } }))
    await expect(upsert).rejects.toBeInstanceOf(LockLostError)
    await expect(remove).rejects.toBeInstanceOf(LockLostError)
    expect(await db.order.findMany({ select: { status: true } })).toEqual([{ status: 'fresh' }])
  })

  test('writes to other rows, and writes outside withLock, are left alone', async () => {
    const { db } = setup()
    const mine = await db.order.create({ data: {} })
    const other = await db.order.create({ data: { lockFence: 1_000_000_000_000n } })
    await db.order.withLock(mine.id, async (_, { tx }) => {
      await tx.order.update({ where: { id: other.id }, data: { total: 5 } })
      await tx.order.updateMany({ where: { status: 'new' }, data: { note: 'bulk' } })
    })
    expect(await db.order.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({
      total: 5,
      note: 'bulk',
      lockFence: 1_000_000_000_000n,
    })
    await db.order.update({ where: { id: mine.id }, data: { total: 9 } })
    expect((await db.order.findUniqueOrThrow({ where: { id: mine.id } })).total).toBe(9)
  })
})

onEveryDatabaseAndStore(
  'fence_int',
  (setup) => {
    test('an Int fence column takes tokens that fit 32 bits, and says what to do when one does not', async () => {
      const { prisma, locks, storeKind } = setup()
      const db = prisma.$extends(lockExtension({ locks, models: { Product: { by: 'sku', fence: 'lockFence' } } }))
      await db.product.create({ data: { sku: 'A-1', stock: 1 } })
      const write = db.product.withLock('A-1', (product, { tx }) =>
        tx.product.update({ where: { sku: 'A-1' }, data: { stock: product.stock + 1 } }),
      )
      if (storeKind === 'memory') {
        expect(await write).toMatchObject({ stock: 2 })
        expect((await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).lockFence).toBeGreaterThan(0)
      } else {
        // Redis seeds its tokens from its clock in microseconds: 64 bits are needed.
        const error = await write.catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(LockError)
        expect((error as Error).message).toMatch(/does not fit Product\.lockFence, an Int \(32 bits\): declare the fence column BigInt/)
        expect((await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).stock).toBe(1)
      }
    })
  },
  { databases: ['sqlite'] },
)

onEveryDatabaseAndStore(
  'fence_not',
  (setup) => {
    test('a write that excludes the locked row by NOT is not fenced: every other row is written', async () => {
      const { db } = setup()
      const mine = await db.order.create({ data: {} })
      // A fence far above any token of the memory store: a fenced write would skip this row.
      const other = await db.order.create({ data: { lockFence: 1_000_000_000_000n } })
      await db.order.withLock(mine.id, async (_, { tx }) => {
        expect(await tx.order.updateMany({ where: { NOT: { id: mine.id } }, data: { note: 'not mine' } })).toEqual({ count: 1 })
      })
      expect(await db.order.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({
        note: 'not mine',
        lockFence: 1_000_000_000_000n,
      })
      expect(await db.order.findUniqueOrThrow({ where: { id: mine.id } })).toMatchObject({ note: null })
    })
  },
  { databases: ['sqlite'], stores: ['memory'] },
)
