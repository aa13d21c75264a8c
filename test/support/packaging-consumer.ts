/**
 * An app's module using every entry of every package, type-checked against the published types
 * (as a .mts and a .cts file: both module systems' declarations).
 */
export const consumerSource = `import { createLockManager, type Lock } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { MemcachedStore } from '@cachelock/core/memcached'
import { lockStoreContract } from '@cachelock/core/testing'
import { lockExtension } from '@cachelock/prisma'
import { LockModel, lockableRepository } from '@cachelock/typeorm'
import { CachelockModule, WithLock } from '@cachelock/nestjs'
import { CachelockTypeOrmModule } from '@cachelock/nestjs/typeorm'
import { overrideLockStore } from '@cachelock/nestjs/testing'
import { Redis } from 'ioredis'
import memjs from 'memjs'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { Injectable, Module } from '@nestjs/common'

export async function consumer(): Promise<number> {
  const locks = createLockManager({ store: new RedisStore(new Redis({ lazyConnect: true })) })
  const memcached = createLockManager({ store: new MemcachedStore(memjs.Client.create('localhost:11211')) })
  const token: number = await locks.withLock('a', async (lock: Lock) => lock.fencingToken)
  // @ts-expect-error: a misspelt option is refused by the published types too
  await memcached.withLock('a', async () => 1, { timout: 5 })

  @Entity()
  @LockModel('sku')
  class Product {
    @PrimaryGeneratedColumn() id!: number
    @Column() sku!: string
  }
  const products = new DataSource({ type: 'postgres' }).getRepository(Product).extend(lockableRepository)
  const sku: string = await products.withLock({ sku: 'A-1' }, async (product) => product.sku)

  @Injectable()
  class Jobs {
    @WithLock('nightly', { skipIfLocked: true })
    async run(): Promise<void> {}
  }
  @Module({ imports: [CachelockModule.forRoot({ store: 'memory://' }), CachelockTypeOrmModule.forRoot()], providers: [Jobs] })
  class AppModule {}

  void [lockExtension({ locks, models: { Product: { by: 'sku' } } }), lockStoreContract, overrideLockStore, AppModule, sku]
  return token
}
`
