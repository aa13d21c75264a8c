import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LockManager, createLockManager } from '@cachelock/core'
import { CachelockModule } from '@cachelock/nestjs'
import {
  CachelockTypeOrmModule,
  InjectLockableRepository,
  getLockableRepositoryToken,
  type RepositoryWithLocks,
} from '@cachelock/nestjs/typeorm'
import { LockModel } from '@cachelock/typeorm'
import { Injectable, Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm'
import { Column, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, uniquePrefix } from './support/app.js'

@Entity()
@LockModel('sku')
class Product {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', { unique: true }) sku!: string
  @Column('integer') stock!: number
}

class SoldOut extends Error {}

@Injectable()
class Shop {
  constructor(
    @InjectLockableRepository(Product) readonly products: RepositoryWithLocks<Product>,
    @InjectRepository(Product) readonly plain: Repository<Product>,
  ) {}

  purchase(sku: string): Promise<number> {
    return this.products.withLock({ sku }, async (product, manager) => {
      if (product.stock === 0) throw new SoldOut()
      product.stock -= 1
      await manager.save(product)
      return product.stock
    })
  }
}

@Module({ imports: [CachelockTypeOrmModule.forFeature([Product])], providers: [Shop] })
class ShopModule {}

const dir = mkdtempSync(join(tmpdir(), 'cachelock-nestjs-typeorm-'))
const database = join(dir, 'shop.sqlite')
const prefix = uniquePrefix('typeorm')

function appModule(extra: DynamicModule[]) {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database, entities: [Product], synchronize: true, enableWAL: true }),
      CachelockModule.forRoot({ store: REDIS_URL, prefix }),
      ...extra,
      ShopModule,
    ],
  })
  class AppModule {}
  return AppModule
}

const create = (module: unknown) => NestFactory.createApplicationContext(module as never, { logger: false, abortOnError: false })

// Two instances of one application on one database file and one Redis, as two pods would be.
let a: INestApplicationContext
let b: INestApplicationContext
const observer = createLockManager({ store: REDIS_URL, prefix })

beforeAll(async () => {
  a = await create(appModule([CachelockTypeOrmModule.forRoot({ strictLockOrder: true })]))
  b = await create(appModule([CachelockTypeOrmModule.forRoot({ strictLockOrder: true })]))
})
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), observer.close()])
  rmSync(dir, { recursive: true, force: true })
})

describe('CachelockTypeOrmModule', () => {
  it('injects a repository whose row locks live in the application’s manager', async () => {
    const shop = a.get(Shop)
    await shop.plain.save({ sku: 'SEEN', stock: 1 })
    await shop.products.withLock({ sku: 'SEEN' }, async () => {
      expect(await observer.isLocked('product:sku:SEEN')).toBe(true)
    })
    expect(a.get(getLockableRepositoryToken(Product))).toBe(shop.products)
  })

  it('sells each unit once when two instances sell concurrently', async () => {
    await a.get(Shop).plain.save({ sku: 'LAST-5', stock: 5 })
    const attempts = Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).get(Shop).purchase('LAST-5'))
    const outcomes = await Promise.allSettled(attempts)
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
    expect(refused.every((o) => o.reason instanceof SoldOut)).toBe(true)
    expect((await b.get(Shop).plain.findOneByOrFail({ sku: 'LAST-5' })).stock).toBe(0)
  })

  it('installs the guard on the data source @nestjs/typeorm made: another instance’s write to a locked row is refused', async () => {
    await a.get(Shop).plain.save({ sku: 'GUARDED', stock: 3 })
    let release!: () => void
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const holding = a.get(Shop).products.withLock({ sku: 'GUARDED' }, async () => {
      entered()
      await new Promise<void>((resolve) => (release = resolve))
    })
    await inside
    const plain = b.get(Shop).plain
    const row = await plain.findOneByOrFail({ sku: 'GUARDED' })
    row.stock = 99
    await expect(plain.save(row)).rejects.toMatchObject({ name: 'LockedRowError', code: 'LOCK_HELD' })
    release()
    await holding
  })

  it('installs with the module’s manager from forFeature alone', async () => {
    const app = await create(appModule([]))
    try {
      const shop = app.get(Shop)
      await shop.plain.save({ sku: 'FEATURE-ONLY', stock: 1 })
      expect(app.get(LockManager).prefix).toBe(prefix)
      await shop.products.withLock('FEATURE-ONLY', async () => expect(await observer.isLocked('product:sku:FEATURE-ONLY')).toBe(true))
    } finally {
      await app.close()
    }
  })
})
