import 'reflect-metadata'
import { createLockManager, type LockHandle } from '@cachelock/core'
import { LockModel, LockedRowError, StaleEntityError, installModelLocks, lockableRepository, withModelLock } from '@cachelock/typeorm'
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type EntityManager } from 'typeorm'

// Every call of the README, type-checked against TypeORM 0.3's declarations.
@Entity()
@LockModel('sku', { fence: 'lockFence' })
export class Product {
  @PrimaryGeneratedColumn() id!: number
  @Column({ unique: true }) sku!: string
  @Column('integer') stock!: number
  @Column({ type: 'bigint', default: 0 }) lockFence!: string
}

export async function usage(dataSource: DataSource): Promise<void> {
  installModelLocks(dataSource, { locks: createLockManager(), strictLockOrder: true })
  const products = dataSource.getRepository(Product).extend(lockableRepository)
  const stock: number = await products.withLock({ sku: 'A-1' }, async (product, manager: EntityManager) => {
    product.stock -= 1
    await manager.save(product)
    return product.stock
  })
  const maybe: Product | null = await products.withLock('A-1', (product) => product, { missing: 'allow', timeout: 2000 })
  const rows: Product[] = await products.withLock(['A-1', { sku: 'B-2' }], (rows) => rows)
  const handle: LockHandle = await products.lock({ sku: 'A-1' }, { timeout: 2000 })
  await handle.release()
  const locked: boolean = await products.isLocked({ sku: 'A-1' })
  await dataSource.transaction(async (m) => {
    await m.withRepository(products).lock({ sku: 'A-1' }, { until: 'transaction' })
  })
  const fresh: number = await withModelLock(new Product(), (product) => product.stock)
  const error: unknown = new Error()
  if (error instanceof LockedRowError) console.log(error.lockName, error.operation)
  if (error instanceof StaleEntityError) console.log(error.lockName, error.entity, error.code)
  console.log(stock, maybe, rows, locked, fresh)
}
