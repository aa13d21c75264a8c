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
  },
  { databases: ['sqlite'], stores: ['memory'] },
)
