import { expectTypeOf } from 'vitest'
import type { Lock } from '@cachelock/core'
import type { RecordLockHandle } from '@cachelock/core/adapter-kit'
import { lockableRepository, withModelLock } from '@cachelock/typeorm'
import type { DataSource, EntityManager } from 'typeorm'
import { Product } from './lock-model.types.js'

// Compile-time checks of the repository methods' types, run by `tsc`, never called. A
// `@ts-expect-error` whose line compiles fails the typecheck; `on \`x\`` in its comment also says
// where the error must start (test/type-error-locations.test.ts checks that).
declare const dataSource: DataSource
const products = dataSource.getRepository(Product).extend(lockableRepository)

export async function rowsAndResults(skus: string[]) {
  const stock = await products.withLock({ sku: 'A-1' }, async (product, manager, lock) => {
    expectTypeOf(product).toEqualTypeOf<Product>()
    expectTypeOf(manager).toEqualTypeOf<EntityManager>()
    expectTypeOf(lock).toEqualTypeOf<Lock>()
    return product.lockFence
  })
  expectTypeOf(stock).toEqualTypeOf<string>()
  expectTypeOf(await products.withLock('A-1', (product) => product.sku)).toEqualTypeOf<string>()
  await products.withLock({ sku: 'A-1' }, (product) => expectTypeOf(product).toEqualTypeOf<Product | null>(), { missing: 'allow' })
  // An array literal gives a tuple: `([a, b]) => …` destructures rows, not `undefined`s.
  await products.withLock([{ sku: 'B-2' }, 'A-1'], async (rows, _manager, locks) => {
    expectTypeOf(rows).toEqualTypeOf<[Product, Product]>()
    expectTypeOf(locks).toEqualTypeOf<Lock[]>()
  })
  await products.withLock(skus, async (rows) => expectTypeOf(rows).toEqualTypeOf<Product[]>())
  await products.withLock(['A-1', 'B-2'], async (rows) => expectTypeOf(rows).toEqualTypeOf<[Product | null, Product | null]>(), {
    missing: 'allow',
  })
  expectTypeOf(await products.lock({ sku: 'A-1' }, { until: 'transaction' })).toEqualTypeOf<RecordLockHandle>()
  expectTypeOf(await products.isLocked('A-1')).toEqualTypeOf<boolean>()
  const product = await products.findOneByOrFail({ sku: 'A-1' })
  expectTypeOf(await withModelLock(product, (fresh) => fresh)).toEqualTypeOf<Product>()
  expectTypeOf(await withModelLock(product, (fresh) => fresh, { missing: 'allow' })).toEqualTypeOf<Product | null>()
}

export async function refusedAtCompileTime() {
  // @ts-expect-error on `timout`: a misspelt option is reported on the option
  await products.withLock('A-1', async () => undefined, { timout: 1000 })
  // @ts-expect-error on `timout`: for several rows too
  await products.withLock(['A-1', 'B-2'], async () => undefined, { timout: 1000 })
  // @ts-expect-error on `timout`: and with missing: 'allow'
  await products.withLock('A-1', async () => undefined, { missing: 'allow', timout: 1000 })
  // @ts-expect-error on `skuu`: Product has no `skuu`
  await products.withLock({ skuu: 'A-1' }, async () => undefined)
  // @ts-expect-error on `skuu`: nor beside a property it has
  await products.withLock({ sku: 'A-1', skuu: 1 }, async () => undefined)
  // @ts-expect-error on `product.sku`: with missing: 'allow' the row may be null
  await products.withLock('A-1', async (product) => product.sku, { missing: 'allow' })
  // @ts-expect-error on `until`: not a withLock option
  await products.withLock('A-1', async () => undefined, { until: 'transaction' })
  // @ts-expect-error on `timout`
  await products.lock('A-1', { timout: 1000 })
  const product = await products.findOneByOrFail({ sku: 'A-1' })
  // @ts-expect-error on `timout`
  await withModelLock(product, async () => undefined, { timout: 1000 })
}
