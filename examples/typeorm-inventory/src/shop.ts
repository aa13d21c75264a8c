import { MemoryStore, createLockManager, type LockManager } from '@cachelock/core'
import { installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { DataSource } from 'typeorm'
import { Product, Reservation } from './entities.js'

/** What a checkout does besides touching stock (a payment check, a call to a warehouse), in ms. */
const WORK_MS = 5

const work = () => new Promise((resolve) => setTimeout(resolve, WORK_MS))

export type Outcome = 'reserved' | 'sold out'

/** A shop on one SQLite file, with its locks in this process's memory. */
export async function openShop(database: string, locks: LockManager = createLockManager({ store: new MemoryStore() })) {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database,
    entities: [Product, Reservation],
    synchronize: true,
    dropSchema: true,
  })
  installModelLocks(dataSource, { locks })
  await dataSource.initialize()
  const products = dataSource.getRepository(Product).extend(lockableRepository)
  const reservations = dataSource.getRepository(Reservation)

  return {
    dataSource,
    products,

    async restock(sku: string, stock: number): Promise<void> {
      // Creating a product that may not exist yet: the lock is on its SKU, row or no row.
      await products.withLock(
        { sku },
        async (product, manager) => {
          await manager.save(Product, { ...product, sku, stock })
          await manager.delete(Reservation, { sku })
        },
        { missing: 'allow' },
      )
    },

    /** The usual read-check-write, with nothing stopping two buyers from reading the same stock. */
    async reserveUnlocked(sku: string, customer: string): Promise<Outcome> {
      const product = await products.findOneByOrFail({ sku })
      await work()
      if (product.stock <= 0) return 'sold out'
      product.stock -= 1
      await products.save(product)
      await reservations.save({ sku, customer })
      return 'reserved'
    },

    /** The same checkout under the product's lock: the stock is read fresh, and nobody else writes it meanwhile. */
    async reserve(sku: string, customer: string): Promise<Outcome> {
      return products.withLock(sku, async (product, manager) => {
        await work()
        if (product.stock <= 0) return 'sold out'
        product.stock -= 1
        await manager.save(product)
        await manager.save(Reservation, { sku, customer })
        return 'reserved'
      })
    },

    async report(sku: string) {
      const product = await products.findOneByOrFail({ sku })
      return { stock: product.stock, reservations: await reservations.countBy({ sku }) }
    },
  }
}

export type Shop = Awaited<ReturnType<typeof openShop>>

/** `buyers` customers check out `sku` at the same moment. */
export async function rush(shop: Shop, sku: string, buyers: number, locked: boolean) {
  const outcomes = await Promise.all(
    Array.from({ length: buyers }, (_, i) => (locked ? shop.reserve(sku, `customer-${i}`) : shop.reserveUnlocked(sku, `customer-${i}`))),
  )
  return { reserved: outcomes.filter((o) => o === 'reserved').length, ...(await shop.report(sku)) }
}
