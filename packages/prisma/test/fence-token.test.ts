import { expect, test } from 'vitest'
import { LockError, MemoryStore, type AcquireRequest, type AcquireResult } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { onEveryDatabaseAndStore, type Extended } from './helpers/matrix.js'
import { managerOn } from './helpers/stores.js'

/**
 * Which token a fenced write carries: its own lock's (never a lock on another model's row of the
 * same id), the newest grant's when the flow holds the row under two names, written into the row
 * by every write (also to a row created after the claim), and only while it fits an Int column.
 */
type Tx = Pick<Extended, 'order'>

onEveryDatabaseAndStore('fence_token', (setup) => {
  test('a row created after the claim by a writer without the lock: every fenced write raises its fence to the token', async () => {
    const { db, prisma } = setup()
    const writes = {
      update: (tx: Tx) => tx.order.update({ where: { id: 7 }, data: { note: 'update' } }),
      updateMany: (tx: Tx) => tx.order.updateMany({ where: { id: 7 }, data: { note: 'updateMany' } }),
      updateManyAndReturn: (tx: Tx) => tx.order.updateManyAndReturn({ where: { id: 7 }, data: { note: 'updateManyAndReturn' } }),
      upsert: (tx: Tx) => tx.order.upsert({ where: { id: 7 }, update: { note: 'upsert' }, create: { id: 7, note: 'created' } }),
    }
    for (const [operation, write] of Object.entries(writes)) {
      await prisma.order.deleteMany()
      const token = await db.order.withLock(
        7,
        async (order, { tx, lock }) => {
          expect(order).toBeNull()
          await prisma.order.create({ data: { id: 7 } }) // fence 0: not through the extension
          await write(tx)
          return BigInt(lock.fencingToken)
        },
        { missing: 'allow', transaction: false },
      )
      // Raised, so that a holder with an older token can no longer write the row.
      expect(await prisma.order.findUniqueOrThrow({ where: { id: 7 } })).toMatchObject({ note: operation, lockFence: token })
    }
  })

  test('a write to another model’s row that has the id of the locked row is not fenced', async () => {
    const { db } = setup()
    const product = await db.product.create({ data: { sku: 'A-1', stock: 1 } })
    // A fence far above any token of the memory store: a fenced write would skip this row.
    const order = await db.order.create({ data: { lockFence: 1_000_000_000_000n } })
    expect(order.id).toBe(product.id)
    await db.product.withLock('A-1', (_, { tx }) => tx.order.update({ where: { id: order.id }, data: { note: 'written' } }))
    expect(await db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ note: 'written', lockFence: 1_000_000_000_000n })
  })
})

onEveryDatabaseAndStore(
  'fence_token_int',
  (setup) => {
    test('a row locked under two names by nested calls: a write carries the newer grant’s token, which its claim wrote', async () => {
      const { prisma, locks } = setup()
      const db = prisma.$extends(lockExtension({ locks, models: { Product: { by: 'sku', fence: 'lockFence' } } }))
      const { id } = await db.product.create({ data: { sku: 'A-1', stock: 1 } })
      const [written, newer] = await db.product.withLock(
        'A-1',
        (_, outer) =>
          db.product.withLock(
            { id },
            async (__, { tx, lock }) => {
              expect(lock.fencingToken).toBeGreaterThan(outer.lock.fencingToken)
              return [await tx.product.update({ where: { sku: 'A-1' }, data: { stock: 5 } }), lock.fencingToken] as const
            },
            { transaction: false },
          ),
        { transaction: false },
      )
      expect(written).toMatchObject({ stock: 5, lockFence: newer })
    })

    test('an Int fence column takes the largest Int token, 2^31 - 1, and refuses the next one, writing nothing', async () => {
      const { prisma } = setup()
      const MAX_INT = 2_147_483_647
      // A store whose counter has reached the end of the Int range (its first token is MAX_INT).
      const store = new (class extends MemoryStore {
        override async acquire(request: AcquireRequest): Promise<AcquireResult> {
          const result = await super.acquire(request)
          return result.granted ? { ...result, fencingToken: result.fencingToken + MAX_INT - 1 } : result
        }
      })()
      const db = prisma.$extends(lockExtension({ locks: managerOn(store), models: { Product: { by: 'sku', fence: 'lockFence' } } }))
      await db.product.create({ data: { sku: 'A-1', stock: 1 } })
      const add = () =>
        db.product.withLock('A-1', async (product, { tx, lock }) => {
          await tx.product.update({ where: { sku: 'A-1' }, data: { stock: product.stock + 1 } })
          return lock.fencingToken
        })
      expect(await add()).toBe(MAX_INT)
      expect(await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).toMatchObject({ stock: 2, lockFence: MAX_INT })
      const error = await add().catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(LockError)
      expect((error as Error).message).toMatch(
        /^Fencing token 2147483648 of lock "product:sku:A-1" does not fit Product\.lockFence, an Int/,
      )
      expect(await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).toMatchObject({ stock: 2, lockFence: MAX_INT })
    })
  },
  // Memory-store tokens start at 1 and fit an Int; Redis's, seeded from its clock in µs, do not.
  { stores: ['memory'] },
)
