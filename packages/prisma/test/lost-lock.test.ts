import { expect, test } from 'vitest'
import { LockLostError } from '@cachelock/core'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

onEveryDatabaseAndStore('lost_lock', (setup) => {
  test('a lock that expires while fn stalls throws LockLostError before commit, and the transaction rolls back', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const error = await db.order
      .withLock(
        id,
        async (_, { tx }) => {
          await tx.order.update({ where: { id }, data: { status: 'paid' } })
          await sleep(250) // past the ttl, with no renewal
        },
        { ttl: 100, autoExtend: false },
      )
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LockLostError)
    expect(error).toMatchObject({ reason: 'expired', lockName: `order:id:${id}` })
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
  })

  test('without the check, the same transaction commits although its lock expired (the test above can fail)', async () => {
    const { prisma, locks } = setup()
    const { id } = await prisma.order.create({ data: {} })
    let lost = false
    await locks
      .withLock(
        `order:id:${id}`,
        (lock) =>
          prisma.$transaction(async (tx) => {
            await tx.order.update({ where: { id }, data: { status: 'paid' } })
            await sleep(250)
            lost = lock.signal.aborted
          }),
        { ttl: 100, autoExtend: false },
      )
      .catch(() => undefined)
    expect(lost).toBe(true)
    expect((await prisma.order.findUniqueOrThrow({ where: { id } })).status).toBe('paid')
  })

  test('a lock stolen while fn runs rolls the transaction back', async () => {
    const { db, locks } = setup()
    const { id } = await db.order.create({ data: {} })
    const work = db.order.withLock(id, async (_, { tx }) => {
      await tx.order.update({ where: { id }, data: { status: 'paid' } })
      await sleep(80)
    })
    work.catch(() => undefined) // awaited below, possibly after it settles
    await sleep(20)
    const thief = await locks.acquire(`order:id:${id}`, { steal: true })
    await expect(work).rejects.toMatchObject({ name: 'LockLostError', reason: 'stolen' })
    await thief.release()
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
  })

  test('a lock force-released while fn runs rolls the transaction back', async () => {
    const { db, locks } = setup()
    const { id } = await db.order.create({ data: {} })
    const work = db.order.withLock(id, async (_, { tx }) => {
      await tx.order.update({ where: { id }, data: { status: 'paid' } })
      await sleep(80)
    })
    work.catch(() => undefined) // awaited below, possibly after it settles
    await sleep(20)
    expect(await locks.forceRelease(`order:id:${id}`)).toBe(true)
    await expect(work).rejects.toMatchObject({ name: 'LockLostError', reason: 'force-released' })
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
  })

  test('a lock held throughout commits: the check costs one round trip and renews the lock', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.order.withLock(id, (_, { tx }) => tx.order.update({ where: { id }, data: { status: 'paid' } }), { ttl: 200 })
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('paid')
  })
})
