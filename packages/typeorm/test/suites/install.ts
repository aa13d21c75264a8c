import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { LockModel, LockedRowError, installModelLocks, lockableRepository, withModelLock } from '@cachelock/typeorm'
import type { DataSource } from 'typeorm'
import type { EntityClass, Env } from '../support/env.js'
import { rejection, unique } from '../support/helpers.js'

/** Issue 7: installing before or after initialize(), and misconfigured entities. */
export function installSuite(env: Env) {
  function misconfigured() {
    const { Entity, Column, PrimaryGeneratedColumn } = env.orm
    @Entity()
    // @ts-expect-error: a field the class does not have is a type error too; here it must reach run time
    @LockModel('skuu')
    class BrokenField {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
    }
    @Entity()
    @LockModel('name')
    class NotUnique {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar') name!: string
    }
    @Entity()
    // @ts-expect-error: as above, for the fence property
    @LockModel('sku', { fence: 'version' })
    class MissingFence {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
    }
    @Entity()
    @LockModel('sku', { fence: 'label' })
    class TextFence {
      @PrimaryGeneratedColumn() id!: number
      @Column('varchar', { unique: true }) sku!: string
      @Column('varchar') label!: string
    }
    return { BrokenField, NotUnique, MissingFence, TextFence }
  }

  /** The guard is active on `dataSource` iff another holder's lock makes a save fail. */
  async function guarded(dataSource: DataSource): Promise<boolean> {
    const products = dataSource.getRepository(env.entities.Product)
    const sku = unique()
    await products.insert({ sku, stock: 1 })
    const other = await env.manager().acquire(recordLockName('product', { sku }))
    try {
      return (await products.save({ ...(await products.findOneByOrFail({ sku })), stock: 0 }).catch((e) => e)) instanceof LockedRowError
    } finally {
      await other.release()
    }
  }

  const open = (entities: EntityClass[] = [env.entities.Product]) => env.dataSourceFor(entities)

  describe('installModelLocks', () => {
    it('works after initialize()', async () => {
      const dataSource = await open().initialize()
      expect(installModelLocks(dataSource, { locks: env.manager() })).toBe(dataSource)
      expect(await guarded(dataSource)).toBe(true)
      await dataSource.destroy()
    })

    it('works before initialize(), and again after a destroy() and initialize()', async () => {
      const dataSource = installModelLocks(open(), { locks: env.manager() })
      await dataSource.initialize()
      expect(await guarded(dataSource)).toBe(true)
      await dataSource.destroy()
      await dataSource.initialize()
      expect(await guarded(dataSource)).toBe(true)
      installModelLocks(dataSource, { locks: env.manager() }) // again: settings updated, one subscriber
      expect(dataSource.subscribers.filter((s) => s.constructor.name === 'ModelLockSubscriber')).toHaveLength(1)
      await dataSource.destroy()
    })

    it('leaves a data source it was not given unguarded', async () => {
      const dataSource = await open().initialize()
      expect(await guarded(dataSource)).toBe(false)
      await dataSource.destroy()
    })

    it('rejects a @LockModel field the entity does not have, naming both: at install, at initialize, at first use', async () => {
      const { BrokenField } = misconfigured()
      const message = /@LockModel\('skuu'\) on BrokenField: BrokenField has no column property `skuu` \(its columns: id, sku\)/
      const initialized = await open([BrokenField]).initialize()
      expect(() => installModelLocks(initialized, { locks: env.manager() })).toThrow(message)

      const early = installModelLocks(open([BrokenField]), { locks: env.manager() })
      const error = await rejection(early.initialize())
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error.message).toMatch(message)
      expect(early.isInitialized).toBe(false)

      const uninstalled = await open([BrokenField]).initialize()
      const repo = uninstalled.getRepository(BrokenField).extend(lockableRepository)
      expect((await rejection(repo.withLock(1, () => undefined))).message).toMatch(message)
      await initialized.destroy()
      await uninstalled.destroy()
    })

    it('rejects a field that is not unique, and a fence that is missing or not an integer', async () => {
      const { NotUnique, MissingFence, TextFence } = misconfigured()
      for (const [entity, message] of [
        [NotUnique, /@LockModel\('name'\) on NotUnique: name is not unique/],
        [MissingFence, /fence: 'version'.* on MissingFence: MissingFence has no column property `version`/],
        [TextFence, /fence: 'label'.* on TextFence: the fence column must be an integer column/],
      ] as const) {
        const dataSource = await open([entity]).initialize()
        expect(() => installModelLocks(dataSource, { locks: env.manager() })).toThrow(message)
        await dataSource.destroy()
      }
    })

    it('lets withModelLock find the one installed data source that has the entity', async () => {
      const { Entity, Column, PrimaryGeneratedColumn } = env.orm
      @Entity()
      @LockModel('code')
      class Coupon {
        @PrimaryGeneratedColumn() id!: number
        @Column('varchar', { unique: true }) code!: string
        @Column('integer') uses!: number
      }
      const dataSource = installModelLocks(open([Coupon]), { locks: env.manager() })
      await dataSource.initialize()
      const coupon = await dataSource.getRepository(Coupon).save({ code: unique('C'), uses: 0 })
      const uses = await withModelLock(
        Object.assign(new Coupon(), coupon),
        async (fresh, manager) => (await manager.save(Object.assign(fresh, { uses: 1 }))).uses,
      )
      expect(uses).toBe(1)
      await dataSource.destroy()
      expect((await rejection(withModelLock(Object.assign(new Coupon(), coupon), () => undefined))).argument).toBe('options.dataSource')
    })

    it('refuses to fence an entity on a data source that was not installed', async () => {
      const dataSource = await open([env.entities.FencedProduct]).initialize()
      const fenced = dataSource.getRepository(env.entities.FencedProduct).extend(lockableRepository)
      const error = await rejection(fenced.withLock(unique(), () => undefined, { missing: 'allow' }))
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error.message).toMatch(/FencedProduct has a fence column: call installModelLocks/)
      await dataSource.destroy()
    })

    it('rejects bad input', () => {
      for (const [call, argument] of [
        [() => installModelLocks(null as never), 'dataSource'],
        [() => installModelLocks({} as never), 'dataSource'],
        [() => installModelLocks(open(), { lock: env.locks } as never), 'options.lock'],
        [() => installModelLocks(open(), { locks: 'redis://x' } as never), 'options.locks'],
        [() => installModelLocks(open(), { strictLockOrder: 'yes' } as never), 'options.strictLockOrder'],
        [() => installModelLocks(open(), { guardTimeout: 0 }), 'options.guardTimeout'],
        [() => installModelLocks(open(), { guardTimeout: '1s' } as never), 'options.guardTimeout'],
        [() => installModelLocks(open(), { guardTimeout: Infinity }), 'options.guardTimeout'],
      ] as const) {
        expect(call).toThrow(InvalidLockArgumentError)
        try {
          call()
        } catch (error) {
          expect((error as InvalidLockArgumentError).argument).toBe(argument)
        }
      }
    })
  })
}
