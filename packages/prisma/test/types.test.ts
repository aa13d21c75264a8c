import { expectTypeOf, test } from 'vitest'
import type { Lock } from '@cachelock/core'
import type { RecordLockHandle } from '@cachelock/core/adapter-kit'
import { lockExtension } from '@cachelock/prisma'
import type { Order, OrderItem, PrismaClient, Product } from './generated/sqlite/client/client.js'

// Compile-time checks, run by `tsc` (`pnpm --filter @cachelock/prisma typecheck`): the functions
// below are never called. A `@ts-expect-error` whose line compiles fails the typecheck.
declare const prisma: PrismaClient

export async function recordAndResultTypes() {
  const db = prisma.$extends(lockExtension({ models: { Product: { by: 'sku' }, Account: { by: 'code' } } }))

  const total = await db.order.withLock(42, async (order, { tx, lock }) => {
    expectTypeOf(order).toEqualTypeOf<Order>()
    expectTypeOf(lock).toEqualTypeOf<Lock>()
    const updated = await tx.order.update({ where: { id: order.id }, data: { total: order.total + 1 } })
    expectTypeOf(updated).toEqualTypeOf<Order>()
    // @ts-expect-error: tx is the typed client, and Order.id is a number
    await tx.order.update({ where: { id: 'x' }, data: {} })
    // A nested withLock, on tx, joins the transaction; configured fields stay typed.
    const stock = await tx.product.withLock('A-1', async (product, inner) => {
      expectTypeOf(inner.tx.order.findFirst).toBeFunction()
      return product.stock
    })
    expectTypeOf(stock).toEqualTypeOf<number>()
    return updated.total
  })
  expectTypeOf(total).toEqualTypeOf<number>()

  // A synchronous fn's result, and a promise's, come out the same.
  expectTypeOf(await db.order.withLock(1, (order) => order.status)).toEqualTypeOf<string>()

  // The configured field, or any unique where.
  await db.product.withLock('A-1', async (product) => expectTypeOf(product).toEqualTypeOf<Product>())
  await db.product.withLock({ sku: 'A-1' }, async () => undefined)
  await db.product.withLock({ id: 7 }, async () => undefined)
  await db.account.withLock('ACC-1', async (account) => expectTypeOf(account.balance).toEqualTypeOf<number>())
  await db.orderItem.withLock({ orderId_line: { orderId: 1, line: 2 } }, async (item) => expectTypeOf(item).toEqualTypeOf<OrderItem>())
}

export async function severalAndMissing() {
  const db = prisma.$extends(lockExtension())

  await db.order.withLock([3, 1, 2], async (orders, { locks }) => {
    // An array literal gives a tuple: `([from, to]) => …` destructures records, not `undefined`s.
    expectTypeOf(orders).toEqualTypeOf<[Order, Order, Order]>()
    expectTypeOf(locks).toEqualTypeOf<Lock[]>()
  })
  const ids: number[] = [3, 1, 2]
  await db.order.withLock(ids, async (orders) => expectTypeOf(orders).toEqualTypeOf<Order[]>())
  await db.user.withLock(
    { email: 'a@example.com' },
    async (user) => expectTypeOf(user).toEqualTypeOf<import('./generated/sqlite/client/client.js').User | null>(),
    {
      missing: 'allow',
    },
  )
  await db.order.withLock([1, 2], async (orders) => expectTypeOf(orders).toEqualTypeOf<[Order | null, Order | null]>(), {
    missing: 'allow',
  })

  expectTypeOf(db.order.lock(42, { timeout: 2000 })).toEqualTypeOf<Promise<RecordLockHandle>>()
  expectTypeOf(db.order.isLocked({ id: 42 })).toEqualTypeOf<Promise<boolean>>()
}

export async function refusedAtCompileTime() {
  const db = prisma.$extends(lockExtension({ models: { Product: { by: 'sku' } } }))
  // @ts-expect-error on `'42'`: Order.id is an Int
  await db.order.withLock('42', async () => undefined)
  // @ts-expect-error on `42`: Product is locked by its sku, a string
  await db.product.withLock(42, async () => undefined)
  // @ts-expect-error on `nope`: no such field
  await db.product.withLock({ nope: 'A-1' }, async () => undefined)
  // @ts-expect-error on `nope`: nor beside a unique field
  await db.product.withLock({ sku: 'A-1', nope: 1 }, async () => undefined)
  // @ts-expect-error on `nope`: nor in an array
  await db.product.withLock(['A-1', { sku: 'B-2', nope: 1 }], async () => undefined)
  // @ts-expect-error on `1`: OrderItem has no `id`: name it by its compound key
  await db.orderItem.withLock(1, async () => undefined)
  // @ts-expect-error on `'not a function'`: fn must be a function
  await db.order.withLock(1, 'not a function')
  // @ts-expect-error on `timout`: a misspelt option is reported on the option
  await db.order.withLock(1, async () => undefined, { timout: 1000 })
  // @ts-expect-error on `timout`: for an array of records too
  await db.order.withLock([1, 2], async () => undefined, { timout: 1000 })
  // @ts-expect-error on `timout`: and with missing: 'allow'
  await db.order.withLock(1, async (order) => order, { missing: 'allow', timout: 1000 })
  // @ts-expect-error on `transaction`: not a transaction option
  await db.order.withLock(1, async (order: Order | null) => order, { missing: 'reject', transaction: 5 })
  // @ts-expect-error on `order.total`: with missing: 'allow' the record may be null
  await db.order.withLock(1, async (order) => order.total, { missing: 'allow' })
  // @ts-expect-error on `timout`
  await db.order.lock(1, { timout: 1000 })
  await db.order.withLock(1, async () => undefined, {
    timeout: 1000,
    ttl: 5000,
    transaction: { timeout: 120_000, isolationLevel: 'Serializable' },
  })
}

export function modelsCheckedAgainstTheClient() {
  // @ts-expect-error on `by`: Product has no unique field `skuu` (the error lists 'id' | 'sku')
  prisma.$extends(lockExtension({ models: { Product: { by: 'skuu' } } }))
  // @ts-expect-error on `by`: `stock` is a field, but not a unique one
  prisma.$extends(lockExtension({ models: { Product: { by: 'stock' } } }))
  // @ts-expect-error on `by`: a compound unique has no single value
  prisma.$extends(lockExtension({ models: { OrderItem: { by: 'orderId' } } }))
  // @ts-expect-error on `Prodcut`: no such model
  prisma.$extends(lockExtension({ models: { Prodcut: { by: 'sku' } } }))
  // @ts-expect-error on `byy`: no such setting
  prisma.$extends(lockExtension({ models: { Product: { byy: 'sku' } } }))
  // @ts-expect-error on `fence`: a fence is an Int or BigInt field
  prisma.$extends(lockExtension({ models: { Product: { fence: 'sku' } } }))
  // @ts-expect-error on `modles`: no such option
  prisma.$extends(lockExtension({ modles: {} }))
  prisma.$extends(
    lockExtension({ models: { Product: { by: 'sku', fence: 'lockFence' }, Account: { by: 'code' }, Order: { fence: 'lockFence' } } }),
  )
  // Made apart from $extends, the client is unknown: any model and field name, but only known settings.
  lockExtension({ models: { Anything: { by: 'any', fence: 'field' } } })
  // @ts-expect-error on `byy`
  lockExtension({ models: { Product: { byy: 'sku' } } })
}

export function extensionMadeApart() {
  // Created apart from $extends, the extension cannot know the client: tx is `any` unless given.
  const typed = lockExtension<PrismaClient>()
  const db = prisma.$extends(typed)
  return db.order.withLock(1, async (order, { tx }) => {
    expectTypeOf(order).toEqualTypeOf<Order>()
    expectTypeOf(await tx.order.findMany()).toEqualTypeOf<Order[]>()
  })
}

export function extensionMadeApartUntyped() {
  const untyped = lockExtension()
  const db = prisma.$extends(untyped)
  return db.order.withLock(1, async (order, { tx }) => {
    expectTypeOf(order).toEqualTypeOf<Order>()
    expectTypeOf(tx).toBeAny()
  })
}

test('the type checks compile (they run under tsc)', () => {
  expectTypeOf(recordAndResultTypes).toBeFunction()
})
