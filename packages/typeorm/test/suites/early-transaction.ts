import { describe, expect, it } from 'vitest'
import pg from 'pg'
import { createLockManager, type AcquireRequest, type LockStore } from '@cachelock/core'
import { installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { PG_URL, type Env } from '../support/env.js'
import { unique } from '../support/helpers.js'

const sleep = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve(`nothing in ${ms} ms`), ms))

/**
 * `withLock` begins its transaction beside the lock request when the lock is likely free (BEGIN and
 * the acquire overlap). It must never hold a connection while it waits for a lock.
 */
export function earlyTransactionSuite(env: Env) {
  describe('the transaction begun beside the lock request', () => {
    /** A process whose data source has one connection (PostgreSQL's pool of 1; SQLite has one anyway). */
    async function oneConnection(options: { store?: LockStore; applicationName?: string } = {}) {
      const extra = { max: 1, ...(options.applicationName ? { application_name: options.applicationName } : {}) }
      const dataSource = env.dataSourceFor(Object.values(env.entities), { extra })
      const locks = options.store ? createLockManager({ store: options.store, prefix: env.locks.prefix }) : env.manager()
      installModelLocks(dataSource, { locks })
      await dataSource.initialize()
      return { dataSource, locks, products: dataSource.getRepository(env.entities.Product).extend(lockableRepository) }
    }

    it("while it waits for a lock another process holds, withLock holds no connection: the data source's other queries go on", async () => {
      const mine = await oneConnection()
      try {
        const sku = unique()
        await mine.products.insert({ sku, stock: 3 })
        const holder = await env.manager().acquire(recordLockName('product', { sku }))
        const waiting = mine.products.withLock(sku, (product) => product.stock)
        for (let i = 0; i < 500 && (await mine.locks.query()).pending.length === 0; i++) await sleep(2)
        await sleep(50) // the store has refused it by now
        const answered = await Promise.race([mine.products.countBy({ sku }), sleep(5000)])
        expect(answered).toBe(1)
        expect(holder.held).toBe(true)
        await holder.release()
        expect(await waiting).toBe(3)
      } finally {
        await mine.dataSource.destroy()
      }
    })

    it('two processes with one connection each hammer one row: every call completes and no update is lost', async () => {
      const [a, b] = [await oneConnection(), await oneConnection()]
      try {
        const sku = unique()
        await a.products.insert({ sku, stock: 0 })
        const add = (i: number) =>
          (i % 2 ? b : a).products.withLock(sku, async (product, manager) => {
            await manager.update(env.entities.Product, { sku }, { stock: product.stock + 1 })
          })
        await Promise.all(Array.from({ length: 40 }, (_, i) => add(i)))
        expect((await a.products.findOneByOrFail({ sku })).stock).toBe(40)
      } finally {
        await a.dataSource.destroy()
        await b.dataSource.destroy()
      }
    })

    it.skipIf(env.config.db !== 'postgres')('a free lock: the transaction has begun before the acquire is sent', async () => {
      const admin = new pg.Client({ connectionString: PG_URL })
      await admin.connect()
      const app = `cachelock-early-${process.pid}-${unique()}`
      const inTransaction = async () => {
        for (const until = performance.now() + 3000; performance.now() < until; await sleep(5)) {
          const { rows } = await admin.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'",
            [app],
          )
          if (rows[0]!.n > 0) return true
        }
        return false
      }
      const seen: boolean[] = []
      const store = new Proxy(env.store, {
        get(target, key) {
          if (key === 'acquire')
            return async (request: AcquireRequest) => {
              seen.push(await inTransaction())
              return target.acquire(request)
            }
          const value: unknown = Reflect.get(target, key, target)
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        },
      })
      const mine = await oneConnection({ store, applicationName: app })
      try {
        const sku = unique()
        await mine.products.insert({ sku, stock: 3 })
        expect(await mine.products.withLock(sku, (product) => product.stock)).toBe(3)
        expect(seen).toEqual([true])
      } finally {
        await mine.dataSource.destroy()
        await admin.end()
      }
    })
  })
}
