import { expect, test } from 'vitest'
import { anotherManagers } from './helpers/another-manager.js'
import { until } from './helpers/http.js'
import { extend, onEveryDatabaseAndStore } from './helpers/matrix.js'

/**
 * Each `$extends(lockExtension())` is a world of its own (an app may extend per request, or a
 * client per database): a `withLock` of one instance nested in another's never joins its
 * transaction, nor hears of its lost lock. PostgreSQL only: on SQLite, with one writer, a second
 * transaction opened inside a writing one waits for it.
 */
onEveryDatabaseAndStore(
  'instances',
  (setup) => {
    const another = anotherManagers()

    test('a withLock of another extension instance nested in fn runs its own transaction: it commits though the outer one rolls back', async () => {
      const { db, prisma, locks } = setup()
      const other = extend(prisma, locks)
      const { id } = await db.order.create({ data: {} })
      await db.product.create({ data: { sku: 'A-1', stock: 5 } })
      let outerTx: unknown
      let innerTx: unknown
      await expect(
        db.order.withLock(id, async (_, { tx }) => {
          outerTx = tx
          await tx.order.update({ where: { id }, data: { status: 'paid' } })
          await other.product.withLock('A-1', async (product, inner) => {
            innerTx = inner.tx
            await inner.tx.product.update({ where: { sku: 'A-1' }, data: { stock: product.stock - 1 } })
          })
          throw new Error('abandon the order')
        }),
      ).rejects.toThrow('abandon the order')
      expect(innerTx === outerTx).toBe(false)
      expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
      expect((await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).stock).toBe(4)
      expect(await db.product.isLocked('A-1')).toBe(false)
    })

    test('a lock of one instance lost (another process stole it) does not refuse the queries of another instance’s withLock in the same flow', async () => {
      const current = setup()
      const { db, prisma, locks } = current
      const thief = await another(current)
      const other = extend(prisma, locks)
      const { id } = await db.order.create({ data: {} })
      await db.product.create({ data: { sku: 'A-1', stock: 5 } })
      let inner: Promise<unknown> | undefined
      const outer = db.order.withLock(
        id,
        async (_, { lock }) => {
          const stolen = await thief.acquire(lock.name, { steal: true })
          await until(() => lock.signal.aborted, 'the renewal to find the steal')
          inner = other.product.withLock('A-1', (product, { tx }) =>
            tx.product.update({ where: { sku: 'A-1' }, data: { stock: product.stock - 1 } }),
          )
          await inner.catch(() => undefined)
          await stolen.release()
        },
        { ttl: 300 },
      )
      await expect(outer).rejects.toMatchObject({ name: 'LockLostError' })
      await until(() => inner !== undefined, 'fn to call the other instance')
      await expect(inner).resolves.toMatchObject({ sku: 'A-1', stock: 4 })
      expect((await db.product.findUniqueOrThrow({ where: { sku: 'A-1' } })).stock).toBe(4)
    })
  },
  { databases: ['postgresql'] },
)
