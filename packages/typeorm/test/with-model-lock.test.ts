import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { LockModel, installModelLocks, withModelLock } from '@cachelock/typeorm'
import type { DataSource } from 'typeorm'
import { useEnv } from './support/env.js'
import { rejection, unique } from './support/helpers.js'

/**
 * `withModelLock(instance, fn, options)`: what it refuses to lock (each with the argument named and
 * the value described), and how it finds the data source when none is given.
 */
describe('withModelLock', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })

  /** The `InvalidLockArgumentError` a call rejects with, as `{ argument, message }`. */
  async function refusal(call: Promise<unknown>) {
    const error = await rejection(call)
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return { argument: (error as InvalidLockArgumentError).argument, message: (error as Error).message }
  }
  const noop = () => undefined

  it('refuses a value that is not an object: a string, null, an array', async () => {
    const cases: [unknown, string][] = [
      ['A-1', '"A-1" (string)'],
      [null, 'null'],
      [[env.entities.Product], 'an array of length 1'],
    ]
    for (const [instance, got] of cases) {
      expect(await refusal(withModelLock(instance as never, noop, { dataSource: env.dataSource }))).toEqual({
        argument: 'instance',
        message: `Expected \`instance\` to be an entity instance, got ${got}`,
      })
    }
  })

  it('refuses an object that is no instance of an entity class: a plain object, an object without a prototype', async () => {
    const sku = unique()
    await env.repos.products.insert({ sku, stock: 1 })
    for (const [instance, got] of [
      [{ sku }, 'an object'],
      [Object.assign(Object.create(null) as object, { sku }), 'an object'],
    ] as const) {
      expect(await refusal(withModelLock(instance as never, noop, { dataSource: env.dataSource }))).toEqual({
        argument: 'instance',
        message: `Expected \`instance\` to be an instance of an entity class (from find(), create() or new), got ${got}`,
      })
    }
    expect(await env.repos.products.isLocked(sku)).toBe(false)
  })

  it('refuses a data source that does not have the entity, naming the entity', async () => {
    const sku = unique()
    const product = await env.repos.products.save({ sku, stock: 1 })
    const others = await env.dataSourceFor([env.entities.Order]).initialize()
    try {
      expect(await refusal(withModelLock(Object.assign(new env.entities.Product(), product), noop, { dataSource: others }))).toEqual({
        argument: 'options.dataSource',
        message: 'Expected `options.dataSource` to be a data source that has the entity Product, got an instance of DataSource',
      })
    } finally {
      await others.destroy()
    }
    expect(await env.repos.products.isLocked(sku)).toBe(false)
  })

  it('names every lock field and its value when one of a compound lock is unset', async () => {
    const item = Object.assign(new env.entities.Item(), { tenant: 't1', stock: 1 })
    expect(await refusal(withModelLock(item, noop, { dataSource: env.dataSource }))).toEqual({
      argument: 'instance',
      message:
        'Expected `instance` to be an entity with its lock field(s) (tenant, sku) set, to name its Item row, got an instance of Item with tenant = "t1" (string), sku = undefined',
    })
  })

  it('names `instance` (and the field) when a lock field holds a value no lock name can carry', async () => {
    const order = Object.assign(new env.entities.Order(), { id: Number.NaN, status: 'new' })
    expect(await refusal(withModelLock(order, noop, { dataSource: env.dataSource }))).toEqual({
      argument: 'instance.id',
      message: 'Expected `instance.id` to be a finite number, string, bigint, boolean, Date or bytes, got NaN',
    })
  })

  describe('without options.dataSource', () => {
    /** An entity of its own, so that only the data sources this test opens have it. */
    function voucherEntity() {
      const { Entity, Column, PrimaryGeneratedColumn } = env.orm
      @Entity(`voucher_${unique('').slice(1)}`)
      @LockModel('code')
      class Voucher {
        @PrimaryGeneratedColumn() id!: number
        @Column('varchar', { unique: true }) code!: string
      }
      return Voucher
    }
    const installed = (entity: new () => object): DataSource => installModelLocks(env.dataSourceFor([entity]), { locks: env.manager() })

    it('uses the one installed, initialized data source that has the entity', async () => {
      const Voucher = voucherEntity()
      const uninitialized = installed(Voucher) // installed, but not initialized: not a candidate
      const dataSource = await installed(Voucher).initialize()
      try {
        const code = unique('V')
        await dataSource.getRepository(Voucher).insert({ code })
        const voucher = Object.assign(new Voucher(), { code })
        expect(await withModelLock(voucher, (fresh, manager) => (manager.connection === dataSource ? fresh.code : 'elsewhere'))).toBe(code)
        expect(uninitialized.isInitialized).toBe(false)
      } finally {
        await dataSource.destroy()
      }
    })

    it('refuses to guess when no installed, initialized data source has the entity, or when several do', async () => {
      const Voucher = voucherEntity()
      const voucher = Object.assign(new Voucher(), { code: unique('V') })
      const first = installed(Voucher)
      expect(await refusal(withModelLock(voucher, noop))).toEqual({
        argument: 'options.dataSource',
        message: 'withModelLock cannot tell where Voucher lives (no installed, initialized data source has it): pass { dataSource }',
      })
      await first.initialize()
      const second = await installed(Voucher).initialize()
      try {
        expect(await refusal(withModelLock(voucher, noop))).toEqual({
          argument: 'options.dataSource',
          message: 'withModelLock cannot tell where Voucher lives (2 installed data sources have it): pass { dataSource }',
        })
      } finally {
        await first.destroy()
        await second.destroy()
      }
    })

    it('calls a class without a name "this entity"', async () => {
      class Nameless {}
      Object.defineProperty(Nameless, 'name', { value: '' })
      expect(await refusal(withModelLock(new Nameless(), noop))).toEqual({
        argument: 'options.dataSource',
        message: 'withModelLock cannot tell where this entity lives (no installed, initialized data source has it): pass { dataSource }',
      })
    })
  })
})
