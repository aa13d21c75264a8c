import 'reflect-metadata'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { LockModel, LockedRowError, installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { Column, Entity, PrimaryGeneratedColumn, Unique, type DataSource } from 'typeorm'
import { useEnv } from './support/env.js'
import { rejection, unique } from './support/helpers.js'
import { Sku, skuColumn } from './support/sku.js'

@Entity()
@LockModel('sku')
class Crate {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', skuColumn)
  sku!: Sku
  @Column('varchar') label!: string
}

/** A transformer written for strings only: its `to` throws on `undefined` and `null`. */
@Entity()
@LockModel('code')
class Voucher {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', { unique: true, transformer: { to: (code: string) => code.toLowerCase(), from: (code: string) => code } })
  code!: string
}

class Warehouse {
  constructor(readonly value: string) {}
}

/** Two lock fields, the first a value object. */
@Entity()
@LockModel(['warehouse', 'sku'])
@Unique(['warehouse', 'sku'])
class Stock {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', { transformer: { to: (w?: Warehouse | null) => w?.value, from: (value: string) => new Warehouse(value) } })
  warehouse!: Warehouse
  @Column('varchar') sku!: string
  @Column('integer') count!: number
}

/** A where as a class instance (a DTO a controller validated): an object of the lock fields, not a value. */
class StockKey {
  constructor(
    readonly warehouse: Warehouse,
    readonly sku: string,
  ) {}
}

/**
 * Which wheres, on a model whose lock field has a transformer, are the field's value (a value
 * object), which are a where object, and which are refused before any transformer sees them.
 */
describe('wheres on transformer columns (TypeORM 1.x on SQLite, memory store)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  let dataSource: DataSource
  const repos = async () => {
    dataSource ??= await installModelLocks(env.dataSourceFor([Crate, Voucher, Stock]), { locks: env.locks }).initialize()
    return {
      crates: dataSource.getRepository(Crate).extend(lockableRepository),
      vouchers: dataSource.getRepository(Voucher).extend(lockableRepository),
      stocks: dataSource.getRepository(Stock).extend(lockableRepository),
    }
  }
  afterAll(() => dataSource?.isInitialized && dataSource.destroy())

  it('an unset where (undefined, null) is refused with InvalidLockArgumentError naming `where`, not a TypeError', async () => {
    const crates = (await repos()).crates as any
    for (const where of [undefined, null]) {
      const error = await rejection(crates.withLock(where, () => undefined))
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error).toMatchObject({
        argument: 'where',
        message: `Expected \`where\` to be { sku } (how Crate rows are locked) or the sku value itself, got ${String(where)}`,
      })
    }
    expect((await env.locks.query()).held).toEqual([])
  })

  it("an unset field in a where is refused as any unset value, and the column's transformer never sees it", async () => {
    const { vouchers } = await repos()
    for (const code of [undefined, null]) {
      const error = await rejection(vouchers.withLock({ code: code as never }, () => undefined))
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error).toMatchObject({
        argument: 'where.code',
        message: `Expected \`where.code\` to be a string, number, bigint, boolean, Date or bytes, got ${String(code)}`,
      })
    }
    expect((await env.locks.query()).held).toEqual([])
  })

  it('a null-prototype where (as GraphQL resolvers get their args) is a where object, not a value', async () => {
    const { crates } = await repos()
    const sku = unique('C')
    await crates.insert({ sku: new Sku(sku), label: 'nails' })
    const where = Object.assign(Object.create(null) as { sku?: Sku }, { sku: new Sku(sku) })
    const name = await crates.withLock(where, async (crate, manager, lock) => {
      await manager.save(Object.assign(crate, { label: 'tacks' }))
      return lock.name
    })
    expect(name).toBe(`crate:sku:${sku}`)
    expect((await crates.findOneByOrFail({ sku: new Sku(sku) })).label).toBe('tacks')
  })

  it('a where given as a class instance of the lock fields locks its row, and the guard refuses others its writes', async () => {
    const { stocks } = await repos()
    const sku = unique('S')
    const warehouse = new Warehouse(unique('w'))
    await stocks.insert({ warehouse, sku, count: 5 })
    const handle = await stocks.lock(new StockKey(warehouse, sku))
    try {
      expect(handle.name).toBe(`stock:sku+warehouse:${JSON.stringify([sku, warehouse.value])}`)
      // Another process: its own data source (connection) and lock manager on the same store.
      const other = await installModelLocks(env.dataSourceFor([Crate, Voucher, Stock]), { locks: env.manager() }).initialize()
      try {
        const theirs = other.getRepository(Stock)
        const stock = await theirs.findOneByOrFail({ warehouse, sku })
        expect(await rejection(theirs.save(Object.assign(stock, { count: 4 })))).toBeInstanceOf(LockedRowError)
      } finally {
        await other.destroy()
      }
    } finally {
      await handle.release()
    }
    expect((await stocks.findOneByOrFail({ warehouse, sku })).count).toBe(5)
  })
})
