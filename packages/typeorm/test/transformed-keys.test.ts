import 'reflect-metadata'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { LockModel, LockedRowError, installModelLocks, lockableRepository, withModelLock } from '@cachelock/typeorm'
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { useEnv, type EnvConfig } from './support/env.js'
import { rejection, unique } from './support/helpers.js'
import { Sku, skuColumn } from './support/sku.js'

/** A value object as a one-field where: accepted at run time; the types take only scalars there. */
const bare = (sku: Sku) => sku as unknown as string

@Entity()
@LockModel('sku')
class Part {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', skuColumn)
  sku!: Sku
  @Column('varchar') name!: string
}

/** A normalising transformer, as an array of two (trimmed, then lowercased). */
@Entity()
@LockModel('code')
class Coupon {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', {
    unique: true,
    transformer: [
      { to: (code?: string | null) => code?.trim(), from: (code: string) => code },
      { to: (code?: string | null) => code?.toLowerCase(), from: (code: string) => code },
    ],
  })
  code!: string
  @Column('integer') uses!: number
}

/** An object key with no transformer: TypeORM stores it (as JSON), but it names no lock. */
@Entity()
@LockModel('slot')
class Bin {
  @PrimaryGeneratedColumn() id!: number
  @Column('simple-json', { unique: true }) slot!: { zone: string; shelf: number }
  @Column('varchar') content!: string
}

/**
 * Lock names are built from the value a column stores (after its transformers), on both sides: the
 * `where` a caller locks by, and the entity the guard reads. A lock field that still names no row
 * refuses the write instead of leaving it unchecked.
 */
function transformedKeys(config: EnvConfig) {
  const env = useEnv(config)
  let dataSource: DataSource
  const repos = async (source?: DataSource) => {
    dataSource ??= await installModelLocks(env.dataSourceFor([Part, Coupon, Bin]), { locks: env.locks }).initialize()
    const on = source ?? dataSource
    return {
      parts: on.getRepository(Part).extend(lockableRepository),
      coupons: on.getRepository(Coupon).extend(lockableRepository),
      bins: on.getRepository(Bin).extend(lockableRepository),
    }
  }
  afterAll(() => dataSource?.isInitialized && dataSource.destroy())
  /** Another process: its own data source (connection) and lock manager on the same store. */
  const otherProcess = async () => {
    await repos()
    const other = await installModelLocks(env.dataSourceFor([Part, Coupon, Bin]), { locks: env.manager() }).initialize()
    return { other, ...(await repos(other)) }
  }

  describe('a value object key (a column transformer)', () => {
    it("a save while another process holds the row's lock (taken by the value object) is refused with LockedRowError", async () => {
      const { parts } = await repos()
      const { other, parts: theirs } = await otherProcess()
      const sku = unique('P')
      await parts.insert({ sku: new Sku(sku), name: 'bolt' })
      const handle = await theirs.lock(bare(new Sku(sku)))
      try {
        expect(handle.name).toBe(`part:sku:${sku}`)
        const part = await parts.findOneByOrFail({ sku: new Sku(sku) })
        const error = await rejection(parts.save(Object.assign(part, { name: 'nut' })))
        expect(error).toBeInstanceOf(LockedRowError)
        expect(error).toMatchObject({ lockName: `part:sku:${sku}`, entity: 'Part', operation: 'update' })
        expect(await rejection(parts.remove(part))).toBeInstanceOf(LockedRowError)
        expect(await rejection(parts.insert({ sku: new Sku(sku), name: 'twin' }))).toBeInstanceOf(LockedRowError)
      } finally {
        await handle.release()
        await other.destroy()
      }
      expect((await parts.findOneByOrFail({ sku: new Sku(sku) })).name).toBe('bolt')
    })

    it("the holder's withLock, by the value object or by a where, takes the name the guard checks, and its writes go through", async () => {
      const { parts } = await repos()
      const sku = unique('P')
      await parts.insert({ sku: new Sku(sku), name: 'bolt' })
      const byValue = await parts.withLock(bare(new Sku(sku)), async (part, manager, lock) => {
        expect(part.sku).toEqual(new Sku(sku))
        expect(await parts.isLocked({ sku: new Sku(sku) })).toBe(true)
        await manager.save(Object.assign(part, { name: 'nut' }))
        return lock.name
      })
      const byWhere = await parts.withLock({ sku: new Sku(sku) }, async (part, manager, lock) => {
        await manager.save(Object.assign(part, { name: `${part.name}+washer` }))
        return lock.name
      })
      const part = await parts.findOneByOrFail({ sku: new Sku(sku) })
      const byInstance = await withModelLock(part, async (fresh, manager, lock) => {
        await manager.save(Object.assign(fresh, { name: `${fresh.name}+pin` }))
        return lock.name
      })
      expect([byValue, byWhere, byInstance]).toEqual([`part:sku:${sku}`, `part:sku:${sku}`, `part:sku:${sku}`])
      expect((await parts.findOneByOrFail({ sku: new Sku(sku) })).name).toBe('nut+washer+pin')
      expect(await parts.isLocked({ sku: new Sku(sku) })).toBe(false)
    })

    it('a where in stored form (the string, not the value object) is refused, naming the field and what was stored', async () => {
      const { parts } = await repos()
      const error = await rejection(parts.withLock({ sku: 'P-1' as never }, () => undefined))
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error).toMatchObject({
        argument: 'where.sku',
        message:
          'Expected `where.sku` to be a Part.sku value its transformer stores as a string, number, bigint, boolean, Date or bytes, got "P-1" (string), stored as undefined',
      })
      expect((await env.locks.query()).held).toEqual([])
    })
  })

  describe('a normalising transformer (trim, then lowercase)', () => {
    it("gives a row one lock name: withLock(' ABC ') and a saved 'abc' row name the same lock", async () => {
      const { coupons } = await repos()
      const { other, coupons: theirs } = await otherProcess()
      const code = unique('c').toLowerCase()
      await coupons.insert({ code, uses: 0 })
      const upper = ` ${code.toUpperCase()} `
      const handle = await theirs.lock(upper)
      try {
        expect(handle.name).toBe(`coupon:code:${code}`)
        expect(await coupons.isLocked(code)).toBe(true)
        const coupon = await coupons.findOneByOrFail({ code })
        const error = await rejection(coupons.save(Object.assign(coupon, { uses: 1 })))
        expect(error).toBeInstanceOf(LockedRowError)
        expect(error.lockName).toBe(`coupon:code:${code}`)
        // A new entity spelling the key another way is the same row to the database, and to the guard.
        expect(await rejection(coupons.insert({ code: code.toUpperCase(), uses: 9 }))).toBeInstanceOf(LockedRowError)
      } finally {
        await handle.release()
        await other.destroy()
      }
      const uses = await coupons.withLock(upper, async (coupon, manager, lock) => {
        expect(lock.name).toBe(`coupon:code:${code}`)
        await manager.save(Object.assign(coupon, { uses: coupon.uses + 1 }))
        return coupon.uses
      })
      expect(uses).toBe(1)
      expect(await coupons.countBy({ code })).toBe(1)
    })
  })

  describe('an object key no transformer stores as a scalar', () => {
    it('a write is refused with InvalidLockArgumentError naming the entity and field, and nothing is written', async () => {
      const { bins } = await repos()
      const slot = { zone: unique('z'), shelf: 1 }
      const message = (argument: string) =>
        `Expected \`${argument}.slot\` to be a string, number, bigint, boolean, Date or bytes (Bin.slot names the row's lock, and has no transformer to store other values as one), got an object`
      const writes = [() => bins.save(bins.create({ slot, content: 'screws' })), () => bins.insert({ slot, content: 'screws' })]
      for (const write of writes) {
        const error = await rejection(write())
        expect(error).toBeInstanceOf(InvalidLockArgumentError)
        expect(error).toMatchObject({ argument: 'entity.slot', message: message('entity') })
      }
      expect(await bins.count()).toBe(0)
      const byInstance = await rejection(withModelLock(bins.create({ slot, content: 'screws' }), () => undefined))
      expect(byInstance).toMatchObject({ argument: 'instance.slot', message: message('instance') })
      // A caller's where gets the plain message of any record lock name.
      const byWhere = await rejection(bins.withLock({ slot }, () => undefined))
      expect(byWhere).toMatchObject({
        argument: 'where.slot',
        message: 'Expected `where.slot` to be a string, number, bigint, boolean, Date or bytes, got an object',
      })
      expect((await env.locks.query()).held).toEqual([])
    })
  })
}

describe('lock names from stored values (TypeORM 1.x on SQLite, memory store)', () => {
  transformedKeys({ line: '1.x', db: 'sqlite', store: 'memory' })
})

describe('lock names from stored values (TypeORM 1.x on PostgreSQL, memory store)', () => {
  transformedKeys({ line: '1.x', db: 'postgres', store: 'memory' })
})
