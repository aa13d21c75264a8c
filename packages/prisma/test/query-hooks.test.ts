import { executionAsyncResource } from 'node:async_hooks'
import { expect, test } from 'vitest'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'

/** Prisma's own record of the query hooks a client runs for one model operation (internal, stable in 7.x). */
function hooksOf(client: unknown, model: string, operation: string): number {
  const extensions = (client as { _extensions: { getAllQueryCallbacks(model: string, operation: string): unknown[] } })._extensions
  return extensions.getAllQueryCallbacks(model, operation).length
}

/**
 * Issue 20: a query hook costs every query it is installed on (Prisma clones the arguments and
 * wraps the query in two more promises: 4–6 % of a findUnique on PostgreSQL). The client the app
 * uses carries only the fencing hook, on fenced models' writes; `fn`'s `tx` carries the rest.
 */
onEveryDatabaseAndStore(
  'query_hooks',
  (setup) => {
    test('outside withLock, reads and unfenced writes run with no hook; fenced writes with the fencing hook alone', () => {
      const { db } = setup()
      for (const operation of ['findUnique', 'findMany', 'count', 'aggregate'])
        for (const model of ['order', 'product']) expect(hooksOf(db, model, operation)).toBe(0)
      expect(hooksOf(db, 'product', 'update')).toBe(0) // Product has no fence column here
      expect(hooksOf(db, '$none', '$queryRaw')).toBe(0)
      for (const operation of ['create', 'update', 'upsert', 'delete', 'updateMany', 'deleteMany'])
        expect(hooksOf(db, 'order', operation)).toBe(1)
    })

    test('inside withLock, every operation of tx is hooked (so a lost lock refuses them)', async () => {
      const { db } = setup()
      const { id } = await db.order.create({ data: {} })
      const counts = await db.order.withLock(id, (_, { tx }) => ({
        read: hooksOf(tx, 'product', 'findUnique'),
        raw: hooksOf(tx, '$none', '$queryRaw'),
        fenced: hooksOf(tx, 'order', 'update'),
      }))
      expect(counts).toEqual({ read: 1, raw: 1, fenced: 2 })
    })

    test('outside withLock no promise hook runs: the lock scopes are off while no withLock runs', async () => {
      // With promise hooks on (any enabled AsyncLocalStorage, on Node 20 and 22), an await
      // continuation runs in its promise's resource; without, in the enclosing one. Hooks cost
      // every promise of the process: 70 ns each here, 1.05× a findUnique.
      const hooksOn = async () => {
        await Promise.resolve()
        return executionAsyncResource() instanceof Promise
      }
      const { db } = setup()
      const { id } = await db.order.create({ data: { total: 3 } })
      expect(await hooksOn()).toBe(false)
      const inside = await db.order.withLock(id, async (order, { tx }) => {
        await tx.order.update({ where: { id }, data: { total: order.total - 1 } })
        return hooksOn()
      })
      expect(inside).toBe(true)
      expect(await hooksOn()).toBe(false)
      await db.order.findUnique({ where: { id } })
      expect(await hooksOn()).toBe(false)
    })
  },
  { databases: ['sqlite'], stores: ['memory'] },
)
