import { expect, test } from 'vitest'
import { createLockManager, LockLostError, MemoryStore } from '@cachelock/core'
import { extend, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { managerOn } from './helpers/stores.js'
import { deferred, settle, staleWrite } from './helpers/stale-holder.js'

/**
 * What a holder learns when the fence turns its write away: a LockLostError that says which write,
 * which lock and which token, caused by the database's answer; and, when the store cannot say
 * whether the lock is lost, the database's answer itself.
 */
onEveryDatabaseAndStore('fence_refusal', (setup) => {
  test('a stale update’s LockLostError names the write, the lock and the token, and its cause is Prisma’s P2025', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const { write, tokens } = await staleWrite(db, id, (tx) => tx.order.update({ where: { id }, data: { status: 'stale' } }))
    expect(write).toMatchObject({ ok: false, error: expect.any(LockLostError) })
    const error = (write as { error: LockLostError }).error
    expect(error).toMatchObject({ lockName: `order:id:${id}`, reason: 'expired' })
    expect(error.message).toBe(
      `Order.update wrote nothing: lock "order:id:${id}" was lost (expired), and the row's lockFence no longer admits ` +
        `fencing token ${tokens.a} (a newer holder has written it)`,
    )
    expect(error.cause).toMatchObject({ code: 'P2025' })
  })

  test('when fn swallows the refusal, withLock still rejects, with that same error', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const { write, withLock } = await staleWrite(db, id, async (tx) => {
      try {
        await tx.order.update({ where: { id }, data: { status: 'stale' } })
      } catch (error) {
        return error // swallowed
      }
    })
    expect(write).toMatchObject({ ok: true, value: expect.any(LockLostError) })
    expect(withLock).toEqual({ ok: false, error: (write as { value: unknown }).value })
  })

  test('a write that matched nothing while the store cannot answer: Prisma’s P2025 stands, not a guessed loss', async () => {
    const { prisma } = setup()
    const store = new (class extends MemoryStore {
      failing = false
      override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
        return this.failing ? Promise.reject(new Error('store unreachable')) : super.extend(key, owner, ttlMs)
      }
    })()
    const db = extend(prisma, managerOn(store))
    const { id } = await db.order.create({ data: {} })
    const written = await db.order.withLock(
      id,
      async (_, { tx }) => {
        await prisma.order.delete({ where: { id } }) // by a writer without the lock
        store.failing = true
        const outcome = await settle(tx.order.update({ where: { id }, data: { note: 'x' } }))
        store.failing = false
        return outcome
      },
      { transaction: false },
    )
    expect(written).toMatchObject({ ok: false, error: { code: 'P2025' } })
    expect((written as { error: unknown }).error).not.toBeInstanceOf(LockLostError)
  })

  test('whatever a query hook below this one throws, even undefined, reaches the caller as thrown', async () => {
    const { db } = setup()
    // Added after the lock extension, so its hook runs inside the fencing hook's query().
    const below = db.$extends({
      query: {
        order: {
          update: ({ args, query }) => {
            if (args.data.note === 'throw undefined') throw undefined
            return query(args)
          },
        },
      },
    })
    const { id } = await db.order.create({ data: {} })
    const outcome = await db.order.withLock(id, () => settle(below.order.update({ where: { id }, data: { note: 'throw undefined' } })), {
      transaction: false,
    })
    expect(outcome).toEqual({ ok: false, error: undefined })
  })
})

onEveryDatabaseAndStore(
  'fence_refusal_tx',
  (setup) => {
    test('in a transaction, a stale holder’s refused create says that the transaction rolls back', async () => {
      const { db: dbA, opened, store, locks } = setup()
      // B: another process, with its own connection and manager: A's manager hears of the steal only when it asks.
      const dbB = extend(opened.connect(), createLockManager({ store, prefix: locks.prefix, sleep: 20 }))
      const holding = deferred()
      const bDone = deferred()
      let refused: unknown
      const a = settle(
        dbA.order.withLock(
          7,
          async (order, { tx }) => {
            expect(order).toBeNull()
            holding.resolve()
            await bDone.promise
            try {
              await tx.order.create({ data: { id: 7, status: 'stale' } })
            } catch (error) {
              refused = error
              throw error
            }
          },
          { missing: 'allow' },
        ),
      )
      await holding.promise
      await dbB.order.withLock(7, (order, { tx }) => tx.order.create({ data: { id: 7, status: 'fresh' } }), {
        missing: 'allow',
        steal: true,
      })
      bDone.resolve()
      expect(await a).toEqual({ ok: false, error: refused })
      expect(refused).toBeInstanceOf(LockLostError)
      expect((refused as Error).message).toMatch(
        /^Order\.create wrote nothing: lock "order:id:7" was lost \(\w+\), .+ \(a newer holder has written it\); the transaction rolls back$/,
      )
      expect(refused).toMatchObject({ cause: { code: 'P2002' } })
      expect(await dbA.order.findMany()).toMatchObject([{ id: 7, status: 'fresh' }])
    })
  },
  { databases: ['postgresql'] },
)
