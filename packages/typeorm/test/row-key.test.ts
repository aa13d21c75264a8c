import 'reflect-metadata'
import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockLostError } from '@cachelock/core'
import { LockModel, LockedRowError, installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { useEnv } from './support/env.js'
import { rejection, unique } from './support/helpers.js'

/**
 * Row keys: the `where` a caller names rows by (and the error that says what it must be), and the
 * key the guard reads off an entity being written, for every kind of value a key column holds.
 */
describe('row keys (TypeORM 1.x on SQLite, memory store)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })

  describe('a where', () => {
    const expectation = {
      product: '{ sku } (how Product rows are locked) or the sku value itself',
      item: '{ tenant, sku } (how Item rows are locked)',
    }

    it('is refused, naming what it must be and what it was', async () => {
      // Wheres the types refuse: they must reach run time.
      const products = env.repos.products as any
      const items = env.repos.items as any
      const cases: [() => Promise<unknown>, string][] = [
        [() => products.withLock(null, () => undefined), `Expected \`where\` to be ${expectation.product}, got null`],
        [
          () => products.withLock({ sku: 'A-1', stock: 1 }, () => undefined),
          `Expected \`where\` to be ${expectation.product}, got { sku, stock }`,
        ],
        [
          () => items.withLock({ tenant: 't1', stock: 1 }, () => undefined),
          `Expected \`where\` to be ${expectation.item}, got { tenant, stock }`,
        ],
        [() => items.withLock('A-1', () => undefined), `Expected \`where\` to be ${expectation.item}, got "A-1" (string)`],
        [() => items.isLocked({ tenant: 't1' }), `Expected \`where\` to be ${expectation.item}, got { tenant }`],
      ]
      for (const [call, message] of cases) {
        const error = await rejection(call())
        expect(error, message).toBeInstanceOf(InvalidLockArgumentError)
        expect(error).toMatchObject({ argument: 'where', message })
      }
      expect((await env.locks.query()).held).toEqual([])
    })
  })

  describe('the key of an entity being written', () => {
    @Entity()
    @LockModel('day')
    class Shift {
      @PrimaryGeneratedColumn() id!: number
      @Column('datetime', { unique: true }) day!: Date
      @Column('varchar') who!: string
    }

    @Entity()
    @LockModel('code')
    class Badge {
      @PrimaryGeneratedColumn() id!: number
      @Column('blob', { unique: true }) code!: Buffer
      @Column('varchar') holder!: string
    }

    let dataSource: DataSource
    const open = async () => {
      dataSource ??= await installModelLocks(env.dataSourceFor([Shift, Badge]), { locks: env.locks }).initialize()
      return dataSource
    }

    it('may be a Date: a save of a row another holder has locked by its date is refused', async () => {
      const shifts = (await open()).getRepository(Shift).extend(lockableRepository)
      const day = new Date(Date.UTC(2000 + Math.floor(Math.random() * 500), 0, 1))
      await shifts.insert({ day, who: 'ann' })
      const name = await shifts.withLock(day, (_, __, lock) => lock.name)
      const other = await env.manager().acquire(name)
      try {
        const shift = await shifts.findOneByOrFail({ day })
        expect(await rejection(shifts.save(Object.assign(shift, { who: 'bob' })))).toBeInstanceOf(LockedRowError)
      } finally {
        await other.release()
      }
      expect((await shifts.findOneByOrFail({ day })).who).toBe('ann')
    })

    it('may be bytes: a save of a row another holder has locked by its bytes is refused', async () => {
      const badges = (await open()).getRepository(Badge).extend(lockableRepository)
      const code = Buffer.from(unique(), 'utf8')
      await badges.insert({ code, holder: 'ann' })
      const name = await badges.withLock(code, (_, __, lock) => lock.name)
      const other = await env.manager().acquire(name)
      try {
        const badge = await badges.findOneByOrFail({ code })
        expect(await rejection(badges.save(Object.assign(badge, { holder: 'bob' })))).toBeInstanceOf(LockedRowError)
      } finally {
        await other.release()
      }
      expect((await badges.findOneByOrFail({ code })).holder).toBe('ann')
    })

    it('is not read for an entity without @LockModel: its writes pass, even under a lock of its own that was lost', async () => {
      const id = Math.floor(Math.random() * 1e9)
      await env.repos.counters.insert({ id, value: 0 })
      let written: unknown
      const outcome = await rejection(
        env.repos.counters.withLock(
          id,
          async (counter, manager, lock) => {
            await new Promise((resolve) => lock.signal.addEventListener('abort', resolve, { once: true }))
            written = await manager.save(Object.assign(counter, { value: 1 })).then(
              () => 'written',
              (error: unknown) => error,
            )
          },
          { transaction: false, ttl: 100, autoExtend: false },
        ),
      )
      expect(outcome).toBeInstanceOf(LockLostError) // withLock reports the loss...
      expect(written).toBe('written') // ...but the write itself was never checked
      expect((await env.repos.counters.findOneByOrFail({ id })).value).toBe(1)
    })
  })
})
