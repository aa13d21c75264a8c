import 'reflect-metadata'
import { LockModel } from '@cachelock/typeorm'
import type { Orm } from './orm.js'

/**
 * The test entities, declared with the decorators of the TypeORM line under test (1.x or 0.3), so
 * each line builds its own metadata for them. Column types are explicit: the suites also run
 * where `emitDecoratorMetadata` is off.
 */
export function defineEntities(orm: Orm) {
  const { Entity, Column, PrimaryGeneratedColumn, PrimaryColumn, DeleteDateColumn, Unique } = orm

  @Entity()
  @LockModel('sku')
  class Product {
    @PrimaryGeneratedColumn() id!: number
    @Column('varchar', { unique: true }) sku!: string
    @Column('integer') stock!: number
    @Column('varchar', { default: '' }) note!: string
    @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null
  }

  /** Product with a fence column (issue 10): writes of a stale holder are rejected by the database. */
  @Entity()
  @LockModel('sku', { fence: 'lockFence' })
  class FencedProduct {
    @PrimaryGeneratedColumn() id!: number
    @Column('varchar', { unique: true }) sku!: string
    @Column('integer') stock!: number
    @Column('varchar', { default: '' }) note!: string
    @Column({ type: 'bigint', default: 0 }) lockFence!: number | string
  }

  /** Locked by primary key. */
  @Entity('orders')
  @LockModel()
  class Order {
    @PrimaryColumn('integer') id!: number
    @Column('varchar') status!: string
  }

  /** Opted out of the guard: its locks work, writes by others are not checked. */
  @Entity()
  @LockModel('sku', { guard: false })
  class Unguarded {
    @PrimaryGeneratedColumn() id!: number
    @Column('varchar', { unique: true }) sku!: string
    @Column('integer') stock!: number
  }

  /** A unique email: rows created under a lock on a key that does not exist yet. */
  @Entity()
  @LockModel('email')
  class Account {
    @PrimaryGeneratedColumn() id!: number
    @Column('varchar', { unique: true }) email!: string
    @Column('varchar') name!: string
  }

  /** A compound unique, and a model name other services use. */
  @Entity()
  @Unique(['tenant', 'sku'])
  @LockModel(['tenant', 'sku'], { model: 'StockItem' })
  class Item {
    @PrimaryGeneratedColumn() id!: number
    @Column('varchar') tenant!: string
    @Column('varchar') sku!: string
    @Column('integer') stock!: number
  }

  /** No decorator: locked by primary key, never guarded. */
  @Entity()
  class Counter {
    @PrimaryColumn('integer') id!: number
    @Column('integer') value!: number
  }

  return { Product, FencedProduct, Order, Unguarded, Account, Item, Counter }
}

export type Entities = ReturnType<typeof defineEntities>
export type ProductEntity = InstanceType<Entities['Product']>
