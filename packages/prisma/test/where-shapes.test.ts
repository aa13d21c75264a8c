import { expect, test } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { onEveryDatabaseAndStore, type Extended } from './helpers/matrix.js'

/** Rejects with InvalidLockArgumentError naming `argument`, with exactly `message`. */
async function refused(call: Promise<unknown>, argument: string, message: string) {
  const error = await call.then(
    () => expect.unreachable('resolved'),
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(InvalidLockArgumentError)
  expect(error).toMatchObject({ argument })
  expect((error as Error).message).toBe(message)
}

/** `entries` as an object without a prototype, as `Object.create(null)` and some parsers make them. */
const bare = <T extends object>(entries: T): T => Object.assign(Object.create(null) as T, entries)

onEveryDatabaseAndStore('where_shapes', (setup) => {
  // The calls below are wrong on purpose; `loose` lets them compile.
  const loose = (db: Extended) => db as unknown as Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>
  const fn = async () => 'ran'

  test('a where that is not one unique field shows the right shape, by the model’s own key', async () => {
    const { db } = setup()
    await refused(
      loose(db).order!.withLock!({ id: 1, status: 'new' }, fn),
      'where',
      'Expected `where` to be one unique field or compound unique of Order, like { id: value } (fields: id, status, total, note, lockFence), got an object with keys id, status',
    )
    await refused(
      loose(db).product!.withLock!({}, fn),
      'where',
      'Expected `where` to be one unique field or compound unique of Product, like { sku: value } (fields: id, sku, stock, lockFence), got an empty object',
    )
    // No `id` and no `by`: there is no key to show, so a placeholder.
    await refused(
      loose(db).account!.withLock!({}, fn),
      'where',
      'Expected `where` to be one unique field or compound unique of Account, like { field: value } (fields: code, balance), got an empty object',
    )
  })

  test('a compound unique needs an object of its fields: one field alone, or values in a list, is refused as the where it is', async () => {
    const { db } = setup()
    const expected =
      'Expected `where` to be one unique field or compound unique of OrderItem, like { field: value } (fields: orderId, line, qty)'
    for (const compound of [{ orderId: 1 }, {}, [1, 2], '12', 12]) {
      await refused(
        loose(db).orderItem!.withLock!({ orderId_line: compound }, fn),
        'where',
        `${expected}, got an object with key "orderId_line"`,
      )
    }
  })

  test('inside a compound unique, a field it does not have and a value of the wrong kind are named by their path', async () => {
    const { db } = setup()
    await refused(
      loose(db).orderItem!.withLock!({ orderId_line: { orderId: 1, lines: 2 } }, fn),
      'where.orderId_line',
      'Expected `where.orderId_line` to be the fields of a compound unique of OrderItem (fields: orderId, line, qty), got an object with key "lines"',
    )
    await refused(
      loose(db).orderItem!.withLock!([{ orderId_line: { orderId: 1, line: 1 } }, { orderId_line: { orderId: 1, line: '2' } }], fn),
      'where[1].orderId_line.line',
      'Expected `where[1].orderId_line.line` to be an integer (OrderItem.line is Int), got "2" (string)',
    )
  })

  test('a where object without a prototype is a where like any other', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.orderItem.create({ data: { orderId: id, line: 2, qty: 5 } })
    expect(await db.order.withLock(bare({ id }), async (order, { lock }) => [order.id, lock.name])).toEqual([id, `order:id:${id}`])
    const item = bare({ orderId_line: bare({ orderId: id, line: 2 }) })
    expect(await db.orderItem.withLock([item], async ([found], { locks }) => [found.qty, locks[0]!.name])).toEqual([
      5,
      `orderItem:line+orderId:["2","${id}"]`,
    ])
    expect(await db.order.isLocked(bare({ id }))).toBe(false)
  })

  test('an object that is a value (bytes, a Date) is taken as the value of the key, not as a where', async () => {
    const { prisma, locks, db } = setup()
    const byRef = prisma.$extends(lockExtension({ locks, models: { Transfer: { by: 'ref' } } }))
    const ref = Buffer.from('c0ffee', 'hex')
    await byRef.transfer.create({ data: { id: 1n, ref } })
    for (const key of [ref, new Uint8Array(ref)]) {
      expect(await byRef.transfer.withLock(key, async (transfer, { lock }) => [transfer.id, lock.name])).toEqual([
        1n,
        'transfer:ref:0xc0ffee',
      ])
    }
    await refused(
      loose(db).order!.withLock!(new Date(0), fn),
      'where',
      'Expected `where` to be an integer (Order.id is Int), got an instance of Date',
    )
  })
})
