import { expect, test } from 'vitest'
import { LockLostError } from '@cachelock/core'
import { until } from './helpers/http.js'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { settle, staleWrite } from './helpers/stale-holder.js'

/**
 * updateMany, updateManyAndReturn and deleteMany on the locked row: fenced like update and delete,
 * and they answer with what they did (a count, the rows), which is what the app goes by.
 */
onEveryDatabaseAndStore('fenced_many_writes', (setup) => {
  test.each(['updateMany', 'updateManyAndReturn', 'deleteMany'] as const)(
    'a stale holder’s %s writes nothing and rejects with LockLostError; the newer holder’s write survives',
    async (operation) => {
      const { db } = setup()
      const { id } = await db.order.create({ data: {} })
      const { write, withLock, tokens } = await staleWrite<unknown>(db, id, (tx) =>
        operation === 'deleteMany'
          ? tx.order.deleteMany({ where: { id } })
          : operation === 'updateMany'
            ? tx.order.updateMany({ where: { id }, data: { status: 'stale', note: 'A' } })
            : tx.order.updateManyAndReturn({ where: { id }, data: { status: 'stale', note: 'A' } }),
      )
      expect(write).toMatchObject({ ok: false, error: expect.any(LockLostError) })
      const error = (write as { error: LockLostError }).error
      expect(error.message).toBe(
        `Order.${operation} wrote nothing: lock "order:id:${id}" was lost (expired), and the row's lockFence no longer ` +
          `admits fencing token ${tokens.a} (a newer holder has written it)`,
      )
      // No database error to point at (the write matched nothing): the cause is the store's answer.
      expect(error.cause).toBeInstanceOf(LockLostError)
      expect(error.cause).not.toBe(error)
      expect(withLock).toMatchObject({ ok: false, error: expect.any(LockLostError) })
      expect(await db.order.findMany()).toMatchObject([{ id, status: 'fresh', note: null, lockFence: BigInt(tokens.b) }])
    },
  )

  test('on the locked row they report what they did: a count of 1, the updated rows, the row deleted', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.order.withLock(id, async (_, { tx, lock }) => {
      expect(await tx.order.updateMany({ where: { id }, data: { total: 1 } })).toEqual({ count: 1 })
      expect(await tx.order.updateManyAndReturn({ where: { id }, data: { total: 2 } })).toMatchObject([
        { id, total: 2, lockFence: BigInt(lock.fencingToken) },
      ])
      expect(await tx.order.deleteMany({ where: { id } })).toEqual({ count: 1 })
    })
    expect(await db.order.count()).toBe(0)
  })

  test('the caller’s own AND conditions still apply: a write they exclude matches nothing, and the lock being held, no error', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.order.withLock(id, async (_, { tx }) => {
      expect(await tx.order.updateMany({ where: { id, AND: { status: 'shipped' } }, data: { note: 'x' } })).toEqual({ count: 0 })
      expect(await tx.order.updateMany({ where: { id, AND: [{ status: 'shipped' }] }, data: { note: 'x' } })).toEqual({ count: 0 })
      expect(await tx.order.deleteMany({ where: { id, AND: { status: 'shipped' } } })).toEqual({ count: 0 })
      // A unique write the condition excludes: Prisma's own not-found error, as without the lock.
      await expect(tx.order.update({ where: { id, AND: { status: 'shipped' } }, data: { note: 'x' } })).rejects.toMatchObject({
        code: 'P2025',
      })
      expect(await tx.order.updateMany({ where: { id, AND: { status: 'new' } }, data: { note: 'new' } })).toEqual({ count: 1 })
    })
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'new', note: 'new' })
  })

  test('a write that lands after the lock expired, no newer holder having claimed the row, reports its count', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    let written: unknown
    const outcome = await settle(
      db.order.withLock(
        id,
        async (_, { tx, lock }) => {
          await until(() => lock.signal.aborted, 'the lock to expire')
          // The fence still admits this token: the write lands, and says so. The loss is withLock's to report.
          written = await tx.order.updateMany({ where: { id }, data: { note: 'late' } })
        },
        { ttl: 100, autoExtend: false, transaction: false },
      ),
    )
    expect(written).toEqual({ count: 1 })
    expect(outcome).toMatchObject({ ok: false, error: expect.any(LockLostError) })
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ note: 'late' })
  })
})
