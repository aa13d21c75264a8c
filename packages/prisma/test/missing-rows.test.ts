import { expect, test } from 'vitest'
import { lockExtension } from '@cachelock/prisma'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

onEveryDatabaseAndStore('missing_rows', (setup) => {
  test('missing: "allow" locks a row that does not exist yet: two concurrent check-then-creates make one row, no unique error', async () => {
    const { db } = setup()
    const signUp = (name: string) =>
      db.user.withLock(
        { email: 'ada@example.com' },
        async (user, { tx }) => {
          await sleep(20) // the gap in which an unlocked check-then-create races
          return user ?? tx.user.create({ data: { email: 'ada@example.com', name } })
        },
        { missing: 'allow' },
      )
    const [first, second] = await Promise.all([signUp('first'), signUp('second')])
    expect(first.id).toBe(second.id)
    expect(await db.user.count()).toBe(1)
  })

  test('without the lock, the same check-then-creates collide on the unique constraint (the test above can fail)', async () => {
    const { prisma } = setup()
    const signUp = async (name: string) => {
      const user = await prisma.user.findUnique({ where: { email: 'ada@example.com' } })
      await sleep(20)
      return user ?? prisma.user.create({ data: { email: 'ada@example.com', name } })
    }
    const outcomes = await Promise.allSettled([signUp('first'), signUp('second')])
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toMatchObject([{ reason: { code: 'P2002' } }])
  })

  test('without missing: "allow", a missing row still rejects (P2025) and leaves no lock', async () => {
    const { db } = setup()
    await expect(db.user.withLock({ email: 'nobody@example.com' }, async () => 'never')).rejects.toMatchObject({ code: 'P2025' })
    expect(await db.user.isLocked({ email: 'nobody@example.com' })).toBe(false)
  })

  test('several records: the missing ones come as null, in place', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const records = await db.order.withLock([404, id], async (orders) => orders.map((order) => order?.id ?? null), { missing: 'allow' })
    expect(records).toEqual([null, id])
  })

  test('a row created under a fenced lock starts with the lock’s token; a stale holder’s create is refused', async () => {
    const { prisma, locks } = setup()
    const db = prisma.$extends(lockExtension({ locks, models: { Order: { fence: 'lockFence' } } }))
    const stale = db.order.withLock(
      { id: 7 },
      async (order, { tx }) => {
        await sleep(300)
        return order ?? tx.order.create({ data: { id: 7, status: 'stale' } })
      },
      { missing: 'allow', ttl: 100, autoExtend: false, transaction: false },
    )
    stale.catch(() => undefined) // awaited below, possibly after it settles
    await sleep(20)
    const token = await db.order.withLock(
      { id: 7 },
      async (order, { tx, lock }) => {
        await (order ?? tx.order.create({ data: { id: 7, status: 'fresh' } }))
        return BigInt(lock.fencingToken)
      },
      { missing: 'allow' },
    )
    await expect(stale).rejects.toMatchObject({ name: 'LockLostError' })
    expect(await db.order.findMany()).toMatchObject([{ id: 7, status: 'fresh', lockFence: token }])
  })
})
