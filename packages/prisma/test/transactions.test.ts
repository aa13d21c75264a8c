import { expect, test } from 'vitest'
import { DEFAULT_TRANSACTION_TIMEOUT } from '@cachelock/prisma'
import { extend, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

onEveryDatabaseAndStore(
  'transactions',
  (setup) => {
    test('the default transaction timeout is a minute, not Prisma’s 5 s: slow work under the lock commits', async () => {
      const { db } = setup()
      expect(DEFAULT_TRANSACTION_TIMEOUT).toBe(60_000)
      const { id } = await db.order.create({ data: {} })
      await db.order.withLock(id, async (_, { tx }) => {
        await sleep(5_300)
        await tx.order.update({ where: { id }, data: { status: 'slow but done' } })
      })
      expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('slow but done')
    }, 20_000)

    test('a transaction that outlives its timeout rolls back, and the lock is released', async () => {
      const { db } = setup()
      const { id } = await db.order.create({ data: {} })
      const work = db.order.withLock(
        id,
        async (_, { tx }) => {
          await tx.order.update({ where: { id }, data: { status: 'too late' } })
          await sleep(400)
        },
        { transaction: { timeout: 150 } },
      )
      await expect(work).rejects.toThrow(/Transaction already closed|expired|timeout/i)
      expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
      expect(await db.order.isLocked(id)).toBe(false)
    })

    test('transaction options set on the extension are the default; a call’s options complete them', async () => {
      const { prisma, locks } = setup()
      const db = extend(prisma, locks, { transaction: { timeout: 150 } })
      const { id } = await db.order.create({ data: {} })
      await expect(db.order.withLock(id, () => sleep(400))).rejects.toThrow(/Transaction already closed|expired|timeout/i)
      // The extension's timeout still applies when a call only sets the isolation level.
      await expect(db.order.withLock(id, () => sleep(400), { transaction: { isolationLevel: 'Serializable' } })).rejects.toThrow(
        /Transaction already closed|expired|timeout/i,
      )
      expect(await db.order.withLock(id, () => sleep(400).then(() => 'ok'), { transaction: { timeout: 2_000 } })).toBe('ok')
    })

    test('a key a call leaves undefined is no option: { isolationLevel: undefined, timeout: undefined } keeps the defaults', async () => {
      const { prisma, locks } = setup()
      const db = extend(prisma, locks, { transaction: { timeout: 150 } })
      const { id } = await db.order.create({ data: {} })
      const undefinedKeys = { isolationLevel: undefined, timeout: undefined, maxWait: undefined }
      await expect(db.order.withLock(id, () => sleep(400), { transaction: undefinedKeys })).rejects.toThrow(
        /Transaction already closed|expired|timeout/i,
      )
      const given = { isolationLevel: undefined, timeout: 2_000 }
      expect(await db.order.withLock(id, () => sleep(400).then(() => 'ok'), { transaction: given })).toBe('ok')
    })
  },
  { stores: ['memory'] },
)
