import { expect, test } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { extend, onEveryDatabaseAndStore, type Extended } from './helpers/matrix.js'

/** Rejects with InvalidLockArgumentError naming `argument`, with a message matching `message`. */
async function refused(call: Promise<unknown>, argument: string, message: RegExp) {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(InvalidLockArgumentError)
  expect(error).toBeInstanceOf(TypeError)
  expect(error).toMatchObject({ argument })
  expect((error as Error).message).toMatch(message)
}

// Bad input is refused before anything touches the store or the database; one database and the
// memory store are enough to show it.
onEveryDatabaseAndStore(
  'validation',
  (setup) => {
    // The calls below are wrong on purpose; `loose` lets them compile.
    const loose = (db: Extended) => db as unknown as Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>

    test('fn that is not a function', async () => {
      const { db, locks } = setup()
      await refused(loose(db).order!.withLock!(1, 'fn'), 'fn', /^Expected `fn` to be a function, got "fn" \(string\)$/)
      expect(await locks.isLocked('order:id:1')).toBe(false)
    })

    test('an id of the wrong kind names the field and its type', async () => {
      const { db } = setup()
      await refused(
        loose(db).order!.withLock!('42', async () => 0),
        'where',
        /^Expected `where` to be an integer \(Order\.id is Int\), got "42" \(string\)$/,
      )
      await refused(
        loose(db).product!.withLock!(42, async () => 0),
        'where',
        /to be a string \(Product\.sku is String\), got 42$/,
      )
      await refused(
        loose(db).order!.withLock!({ id: 1.5 }, async () => 0),
        'where.id',
        /to be an integer \(Order\.id is Int\), got 1\.5/,
      )
      await refused(
        loose(db).order!.withLock!([1, null], async () => 0),
        'where[1]',
        /got null/,
      )
      await refused(loose(db).order!.lock!('x'), 'where', /Order\.id is Int/)
      await refused(loose(db).order!.isLocked!(undefined), 'where', /got undefined/)
    })

    test('a where that is not one unique field or compound unique', async () => {
      const { db } = setup()
      await refused(
        loose(db).order!.withLock!({}, async () => 0),
        'where',
        /one unique field or compound unique of Order.*got an empty object/,
      )
      await refused(
        loose(db).order!.withLock!({ id: 1, status: 'new' }, async () => 0),
        'where',
        /got an object with keys id, status/,
      )
      await refused(
        loose(db).order!.withLock!({ nope: 1 }, async () => 0),
        'where',
        /\(fields: id, status, total, note, lockFence\), got an object with key "nope"/,
      )
      await refused(
        loose(db).orderItem!.withLock!({ orderId_line: { orderId: 1, nope: 2 } }, async () => 0),
        'where.orderId_line',
        /compound unique of OrderItem/,
      )
      await refused(
        loose(db).order!.withLock!([], async () => 0),
        'where',
        /a non-empty array/,
      )
    })

    test('a where by fields that are not unique (issue 13 §5b), before anything is locked', async () => {
      const { db, locks } = setup()
      await db.user.create({ data: { email: 'a@example.com', name: 'Ann' } })
      await refused(
        loose(db).user!.withLock!({ name: 'Ann' }, async () => 0),
        'where',
        /^Expected `where` to be one unique field or compound unique of User \(its unique keys: id, email\), got name, which is not unique$/,
      )
      await refused(
        loose(db).orderItem!.withLock!({ orderId_qty: { orderId: 1, qty: 2 } }, async () => 0),
        'where.orderId_qty',
        /\(its unique keys: \(line, orderId\)\), got orderId \+ qty, which is not unique/,
      )
      await refused(loose(db).user!.lock!({ name: 'Ann' }), 'where', /not unique/)
      expect((await locks.query()).held).toEqual([])
      // Unique ones are fine, a compound key in either order.
      expect(await db.user.withLock({ email: 'a@example.com' }, (user) => user.name)).toBe('Ann')
      await db.order.create({ data: {} })
      await db.orderItem.create({ data: { orderId: 1, line: 1 } })
      expect(await db.orderItem.withLock({ orderId_line: { line: 1, orderId: 1 } }, (item) => item.line)).toBe(1)
    })

    test('a bare value for a model without an `id` field says to configure `by`', async () => {
      const { db } = setup()
      await refused(
        loose(db).orderItem!.withLock!(1, async () => 0),
        'where',
        /set `models\.OrderItem\.by` to lock it by a bare value/,
      )
    })

    test('unknown and invalid options, the adapter’s and the core’s', async () => {
      const { db, locks } = setup()
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { timout: 5 }),
        'options.timout',
        /^Unknown option `options\.timout`; known options: autoExtend, ifAvailable, missing, mode/,
      )
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { missing: 'maybe' }),
        'options.missing',
        /"reject" or "allow"/,
      )
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { transaction: 5 }),
        'options.transaction',
        /false or \{ timeout, maxWait, isolationLevel \}/,
      )
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { transaction: { timeout: -1 } }),
        'options.transaction.timeout',
        /> 0, got -1/,
      )
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { transaction: { timeot: 1 } }),
        'options.transaction.timeot',
        /Unknown option/,
      )
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { strictLockOrder: 'yes' }),
        'options.strictLockOrder',
        /a boolean/,
      )
      await db.order.create({ data: {} })
      await refused(
        loose(db).order!.withLock!(1, async () => 0, { ttl: -5 }),
        'options.ttl',
        /got -5/,
      )
      await refused(loose(db).order!.lock!(1, { releaseOnFinalise: true }), 'options.releaseOnFinalise', /Unknown option/)
      expect(await locks.isLocked('order:id:1')).toBe(false)
    })

    test('the extension’s options are checked when it is created, its models when it is applied', async () => {
      const { prisma, locks } = setup()
      const apply = (options: unknown) => () => prisma.$extends(lockExtension(options as never))
      expect(apply({ locks: {} })).toThrow(/Expected `options.locks` to be a LockManager/)
      expect(apply({ lock: locks })).toThrow(/Unknown option `options.lock`/)
      expect(apply({ locks, models: { Prodcut: { by: 'sku' } } })).toThrow(
        /Expected `options.models` to be keyed by model names as in the schema \(Order, OrderItem, Product, User, Account, Transfer\), got a key "Prodcut"/,
      )
      expect(apply({ locks, models: { product: { by: 'sku' } } })).toThrow(/keyed by model names as in the schema/)
      expect(apply({ locks, models: { Product: { by: 'skew' } } })).toThrow(
        /`options.models.Product.by` to be a scalar field of Product \(fields: id, sku, stock, lockFence\)/,
      )
      // A field that is not unique (issue 13 §5b): the schema text the client carries says so.
      expect(apply({ locks, models: { User: { by: 'name' } } })).toThrow(
        /Expected `options.models.User.by` to be a unique field of User \(@id or @unique; its unique fields: id, email\), got "name", which is not unique/,
      )
      expect(apply({ locks, models: { User: { by: 'email' } } })).not.toThrow()
      expect(apply({ locks, models: { Product: { fence: 'sku' } } })).toThrow(
        /`options.models.Product.fence` to be an Int or BigInt field \(Product.sku is String\)/,
      )
      expect(apply({ locks, models: { Product: { fenc: 'lockFence' } } })).toThrow(/Unknown option `options.models.Product.fenc`/)
      expect(apply({ locks, transaction: { timeout: 0 } })).toThrow(/`options.transaction.timeout`/)
      expect(() => extend(prisma, locks)).not.toThrow()
    })
  },
  { databases: ['sqlite'], stores: ['memory'] },
)
