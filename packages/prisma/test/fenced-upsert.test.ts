import { expect, test } from 'vitest'
import { LockLostError } from '@cachelock/core'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { staleWrite } from './helpers/stale-holder.js'

/**
 * upsert on the locked row: a row locked before it existed is created at the token; an existing
 * row is updated, fenced; one that a writer without the lock deleted meanwhile is created again.
 */
onEveryDatabaseAndStore('fenced_upsert', (setup) => {
  test('an upsert of a row locked before it existed creates it, starting at the lock’s token', async () => {
    const { db } = setup()
    const [created, token] = await db.order.withLock(
      7,
      async (order, { tx, lock }) => {
        expect(order).toBeNull()
        const row = await tx.order.upsert({ where: { id: 7 }, update: { note: 'updated' }, create: { id: 7, note: 'created' } })
        return [row, BigInt(lock.fencingToken)] as const
      },
      { missing: 'allow' },
    )
    expect(created).toMatchObject({ id: 7, note: 'created', lockFence: token })
    expect(await db.order.findMany()).toMatchObject([{ id: 7, note: 'created', lockFence: token }])
  })

  test('a stale holder’s upsert of a row locked before it existed meets the newer holder’s row: LockLostError, caused by the unique violation', async () => {
    const { db } = setup()
    const { write, tokens } = await staleWrite(
      db,
      7,
      (tx) => tx.order.upsert({ where: { id: 7 }, update: { status: 'stale update' }, create: { id: 7, status: 'stale create' } }),
      { missing: 'allow' },
    )
    expect(write).toMatchObject({ ok: false, error: expect.any(LockLostError) })
    const error = (write as { error: LockLostError }).error
    expect(error.message).toMatch(/^Order\.upsert wrote nothing: lock "order:id:7" was lost \(expired\)/)
    // What the database answered: the create ran into the row the newer holder made.
    expect(error.cause).toMatchObject({ code: 'P2002' })
    expect(await db.order.findMany()).toMatchObject([{ id: 7, status: 'fresh', lockFence: BigInt(tokens.b) }])
  })

  test('the locked row deleted by a writer without the lock: the upsert creates it again, as asked', async () => {
    const { db, prisma } = setup()
    const { id } = await db.order.create({ data: {} })
    const [upserted, token] = await db.order.withLock(
      id,
      async (_, { tx, lock }) => {
        await prisma.order.delete({ where: { id } })
        const row = await tx.order.upsert({ where: { id }, update: { note: 'updated' }, create: { id, note: 'created again' } })
        return [row, BigInt(lock.fencingToken)] as const
      },
      { transaction: false },
    )
    expect(upserted).toMatchObject({ id, note: 'created again', lockFence: token })
    expect(await db.order.findMany()).toMatchObject([{ id, note: 'created again', lockFence: token }])
  })

  test('an upsert whose update breaks a unique constraint rejects with Prisma’s P2002, and the transaction rolls back', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const other = await db.order.create({ data: {} })
    const error = await db.order
      .withLock(id, (_, { tx }) => tx.order.upsert({ where: { id }, update: { id: other.id }, create: {} }))
      .catch((caught: unknown) => caught)
    // Not retried, not reported as anything else: an app maps P2002 to "409 Conflict".
    expect(error).toMatchObject({ code: 'P2002' })
    expect(await db.order.count()).toBe(2)
  })
})
