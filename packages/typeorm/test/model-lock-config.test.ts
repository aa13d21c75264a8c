import 'reflect-metadata'
import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, createLockManager } from '@cachelock/core'
import { LockModel, installModelLocks, lockableRepository } from '@cachelock/typeorm'
import {
  Column,
  DataSource,
  Entity,
  EntitySchema,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  ViewColumn,
  ViewEntity,
} from 'typeorm'
import type { EntityClass } from './support/env.js'
import { rejection } from './support/helpers.js'

/**
 * How `@LockModel` is checked against the entity's TypeORM metadata when a data source is
 * installed: which fields can name one row, which columns can fence, and the error (class,
 * argument, whole message) that says what is wrong. Each entity lives in its own SQLite database.
 */
async function open(entities: (EntityClass | EntitySchema)[]) {
  return new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, synchronize: true }).initialize()
}

/** The error `installModelLocks` throws for `entity`, or `undefined` when it accepts it. */
async function installError(entity: EntityClass, ...others: EntityClass[]): Promise<InvalidLockArgumentError | undefined> {
  const dataSource = await open([entity, ...others])
  try {
    installModelLocks(dataSource, { locks: createLockManager() })
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return error as InvalidLockArgumentError
  } finally {
    await dataSource.destroy()
  }
}

class Address {
  @Column('varchar') street!: string
}

@Entity()
class Customer {
  @PrimaryGeneratedColumn() id!: number
}

describe('@LockModel fields', () => {
  it('must be a column of the entity: the error lists its own columns, not those of embedded objects', async () => {
    @Entity()
    // @ts-expect-error: a field the class does not have is a type error too; here it must reach run time
    @LockModel('code')
    class Depot {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
      @Column(() => Address) address!: Address
    }
    expect(await installError(Depot)).toMatchObject({
      argument: '@LockModel field',
      message: "@LockModel('code') on Depot: Depot has no column property `code` (its columns: id, sku)",
    })
  })

  it("must not be a relation's join column", async () => {
    @Entity()
    @LockModel('customer')
    class Cart {
      @PrimaryGeneratedColumn() id!: number
      @ManyToOne(() => Customer)
      @JoinColumn()
      customer!: Customer
    }
    const error = await installError(Cart, Customer)
    expect(error).toMatchObject({ argument: '@LockModel field' })
    expect(error?.message).toContain("@LockModel('customer') on Cart: `customer` is a relation's join column; lock by a plain column")
  })

  it('must be exactly a unique key: a key plus another column is refused (the row would have a name per value)', async () => {
    @Entity()
    @LockModel(['sku', 'stock'])
    class Shelf {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
      @Column('integer') stock!: number
    }
    const error = await installError(Shelf)
    expect(error).toMatchObject({ argument: '@LockModel field' })
    expect(error?.message).toContain(
      "@LockModel('sku', 'stock') on Shelf: sku + stock is not unique (not the primary key, a unique column or a unique index), so a lock by it would not name one row",
    )
  })

  it('must cover all the columns of a compound unique, not only some', async () => {
    @Entity()
    @Unique(['tenant', 'sku'])
    @LockModel(['tenant', 'stock'])
    class Bin {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar') tenant!: string
      @Column('varchar') sku!: string
      @Column('integer') stock!: number
    }
    expect((await installError(Bin))?.message).toContain('tenant + stock is not unique')
  })

  it('may be a unique index, but not a plain index nor a partial unique index', async () => {
    @Entity()
    @Index(['code'], { unique: true })
    @LockModel('code')
    class Voucher {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar') code!: string
    }
    @Entity()
    @Index(['code'])
    @LockModel('code')
    class Ticket {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar') code!: string
    }
    @Entity()
    @Index(['code'], { unique: true, where: '"live" = 1' })
    @LockModel('code')
    class Pass {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar') code!: string
      @Column('integer') live!: number
    }
    expect(await installError(Voucher)).toBeUndefined()
    expect((await installError(Ticket))?.message).toContain('code is not unique')
    expect((await installError(Pass))?.message).toContain('code is not unique')

    const dataSource = installModelLocks(await open([Voucher]), { locks: createLockManager() })
    const vouchers = dataSource.getRepository(Voucher).extend(lockableRepository)
    await vouchers.insert({ code: 'V-1' })
    expect(await vouchers.withLock('V-1', (voucher, _, lock) => [voucher.code, lock.name])).toEqual(['V-1', 'voucher:code:V-1'])
    await dataSource.destroy()
  })

  it('default to the primary key, and an entity without one (a view) is refused naming the entity', async () => {
    @ViewEntity({ expression: 'SELECT 1 AS "total"' })
    class Totals {
      @ViewColumn() total!: number
    }
    const dataSource = await open([Totals])
    const totals = dataSource.getRepository(Totals).extend(lockableRepository)
    const error = await rejection(totals.withLock(1, () => undefined))
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error).toMatchObject({
      argument: 'entity',
      message: 'Totals has no primary column to lock by; name a unique field with @LockModel(field)',
    })
    await dataSource.destroy()
  })

  it('name a class without a name by its table', async () => {
    const Widget = (() => class {})()
    expect(Widget.name).toBe('')
    const schema = new EntitySchema({
      name: 'Widget',
      tableName: 'widgets',
      target: Widget,
      columns: { id: { type: Number, primary: true } },
    })
    const dataSource = installModelLocks(await open([schema]), { locks: createLockManager() })
    const widgets = dataSource.getRepository<{ id: number }>(Widget).extend(lockableRepository)
    await widgets.insert({ id: 7 })
    expect(await widgets.withLock(7, (_, __, lock) => lock.name)).toBe('widgets:id:7')
    await dataSource.destroy()
  })
})

describe('@LockModel fence', () => {
  const where = (fence: string, entity: string) => `@LockModel(…, { fence: '${fence}' }) on ${entity}`

  it('must be a column of the entity', async () => {
    @Entity()
    // @ts-expect-error: as above, for the fence property
    @LockModel('sku', { fence: 'version' })
    class Crate {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
    }
    expect(await installError(Crate)).toMatchObject({
      argument: 'options.fence',
      message: `${where('version', 'Crate')}: Crate has no column property \`version\`; add one, e.g. @Column({ type: 'bigint', default: 0 }) version`,
    })
  })

  it('must be a column of its own, neither the lock field nor the primary key', async () => {
    @Entity()
    @LockModel('sku', { fence: 'sku' })
    class Box {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
    }
    @Entity()
    @LockModel('sku', { fence: 'id' })
    class Carton {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
    }
    for (const [entity, fence] of [
      [Box, 'sku'],
      [Carton, 'id'],
    ] as const) {
      expect(await installError(entity)).toMatchObject({
        argument: 'options.fence',
        message: `${where(fence, entity.name)}: the fence must be a column of its own, not a key`,
      })
    }
  })

  it('must be an integer column, and the error names the type it has', async () => {
    @Entity()
    @LockModel('sku', { fence: 'label' })
    class Sack {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
      @Column('varchar') label!: string
    }
    @Entity()
    @LockModel('sku', { fence: 'label' })
    class Tin {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
      @Column({ type: String }) label!: string
    }
    const message = (entity: string, type: string) =>
      `${where('label', entity)}: the fence column must be an integer column (bigint recommended), got type ${type}`
    expect(await installError(Sack)).toMatchObject({ argument: 'options.fence', message: message('Sack', 'varchar') })
    expect(await installError(Tin)).toMatchObject({ argument: 'options.fence', message: message('Tin', 'String') })
  })

  it('may be declared with the Number type, and then fences', async () => {
    @Entity()
    @LockModel('sku', { fence: 'fence' })
    class Drum {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
      @Column({ type: Number, default: 0 }) fence!: number
    }
    expect(await installError(Drum)).toBeUndefined()
    const dataSource = installModelLocks(await open([Drum]), { locks: createLockManager() })
    const drums = dataSource.getRepository(Drum).extend(lockableRepository)
    await drums.insert({ sku: 'D-1' })
    expect(await drums.withLock('D-1', (_, __, lock) => lock.fencingToken)).toBe(1)
    expect((await drums.findOneByOrFail({ sku: 'D-1' })).fence).toBe(1)
    await dataSource.destroy()
  })
})
