import { expect, test } from 'vitest'
import { InvalidLockArgumentError, LockNotAcquiredError } from '@cachelock/core'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'

/** What a refused call tells the developer: what went wrong, and what to write instead. */
onEveryDatabaseAndStore(
  'refusals',
  (setup) => {
    test('withLock on a transaction the caller started: the message names the call made and the one to make', async () => {
      const { db } = setup()
      const { id } = await db.product.create({ data: { sku: 'A-1', stock: 1 } })
      const error = await db.$transaction((tx) => tx.product.withLock('A-1', () => id)).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error).toMatchObject({
        code: 'LOCK_NOT_SUPPORTED',
        argument: 'this',
        message:
          'withLock was called on a transaction client (tx.product.withLock). Its lock would be released when withLock returns, ' +
          'before your transaction commits, and another holder could read the row as it was and overwrite this change. ' +
          'Call it on the client (db.product.withLock) and do the work in fn with the tx it receives; ' +
          'a withLock nested in another one joins that transaction by itself.',
      })
    })

    test('lock() inside withLock on the same record: the message says it is not reentrant and what to use', async () => {
      const { db } = setup()
      const { id } = await db.order.create({ data: {} })
      const error = await db.order.withLock(id, () => db.order.lock(id).catch((caught: unknown) => caught))
      expect(error).toBeInstanceOf(LockNotAcquiredError)
      expect(error).toMatchObject({
        lockName: `order:id:${id}`,
        message:
          `Lock "order:id:${id}" is held by this flow (inside withLock): lock() is not reentrant and would wait for itself; ` +
          'use the lock withLock passes to fn',
      })
    })
  },
  { stores: ['memory'] },
)
