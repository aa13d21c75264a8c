import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { InvalidLockArgumentError, createLockManager, type Lock, type LockStore } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { openDatabase, type TestClient, type TestDatabase } from './helpers/databases.js'

/** A store that fails every call: the mode must never touch one. */
const noStore = new Proxy({} as LockStore, {
  get: (_, property) => (property === 'then' ? undefined : () => Promise.reject(new Error(`store.${String(property)} was called`))),
})
const locks = createLockManager({ store: noStore })

function extendIn(prisma: TestClient) {
  return prisma.$extends(lockExtension({ locks, lockIn: 'transaction', models: { Order: { fence: 'lockFence' } } }))
}

/** `lockIn: 'transaction'`: where its locks end, which calls join them, which are refused. */
describe('lockIn: transaction, the scope of a withLock (PostgreSQL)', () => {
  let opened: TestDatabase
  beforeAll(async () => {
    opened = await openDatabase('postgresql', 'in_transaction_scope')
  })
  afterAll(() => opened?.close())
  beforeEach(() => opened.reset())

  test('the lock fn was given is no longer held once withLock has returned (its transaction ended)', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    let kept: Lock | undefined
    await db.order.withLock(id, (_, { lock }) => {
      expect(lock.held).toBe(true)
      kept = lock
    })
    expect(kept!.held).toBe(false)
    await expect(
      db.order.withLock(id, (_, { lock }) => {
        kept = lock
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(kept!.held).toBe(false)
  })

  test('tx.order.withLock on a transaction the caller started is refused, naming the call to make instead', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    const error = await db.$transaction((tx) => tx.order.withLock(id, () => 'never')).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error).toMatchObject({ code: 'LOCK_NOT_SUPPORTED', argument: 'this' })
    expect((error as Error).message).toMatch(/^withLock was called on a transaction client \(tx\.order\.withLock\)\./)
    expect((error as Error).message).toContain('Call it on the client (db.order.withLock)')
  })

  test('a withLock of another extension instance nested in fn does not join: its own transaction commits though the outer one rolls back', async () => {
    const db = extendIn(opened.prisma)
    const other = extendIn(opened.prisma)
    const a = await db.order.create({ data: {} })
    const b = await db.order.create({ data: {} })
    let outerTx: unknown
    let innerTx: unknown
    await expect(
      db.order.withLock(a.id, async (_, { tx }) => {
        outerTx = tx
        await tx.order.update({ where: { id: a.id }, data: { status: 'outer' } })
        await other.order.withLock(b.id, (_order, inner) => {
          innerTx = inner.tx
          return inner.tx.order.update({ where: { id: b.id }, data: { status: 'inner' } })
        })
        throw new Error('abandon')
      }),
    ).rejects.toThrow('abandon')
    expect(innerTx === outerTx).toBe(false)
    expect((await db.order.findUniqueOrThrow({ where: { id: a.id } })).status).toBe('new')
    expect((await db.order.findUniqueOrThrow({ where: { id: b.id } })).status).toBe('inner')
  })
})
