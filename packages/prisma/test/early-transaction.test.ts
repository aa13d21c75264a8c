import { afterAll, beforeAll, expect, test } from 'vitest'
import pg from 'pg'
import { createLockManager, type AcquireRequest, type LockStore } from '@cachelock/core'
import { anotherManagers } from './helpers/another-manager.js'
import { PG_URL } from './helpers/databases.js'
import { until } from './helpers/http.js'
import { extendUnfenced, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

/** `store`, with `before` awaited before each `acquire` is sent. */
function beforeAcquire(store: LockStore, before: () => Promise<void>): LockStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'acquire')
        return async (request: AcquireRequest) => {
          await before()
          return target.acquire(request)
        }
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

/**
 * `withLock` begins its transaction beside the lock request when the lock is likely free, so BEGIN
 * and the acquire overlap. It must never hold a connection while it waits for a lock.
 */
onEveryDatabaseAndStore('early_tx', (setup) => {
  const another = anotherManagers()

  test("while it waits for a lock another client holds, withLock holds no connection: the client's other queries go on", async () => {
    const current = setup()
    // One connection (PostgreSQL): a query answers only if the waiting withLock does not hold it.
    const prisma = current.opened.connect({ connections: 1 })
    const db = extendUnfenced(prisma, current.locks)
    const { id } = await db.order.create({ data: {} })
    const holder = await (await another(current)).acquire(`order:id:${id}`)
    const waiting = db.order.withLock(id, (order) => order.id)
    await until(async () => (await current.locks.query()).pending.length === 1, 'withLock to wait')
    await sleep(50) // the store has refused it by now
    const answered = await Promise.race([db.order.count(), sleep(5000).then(() => 'no free connection in 5 s')])
    expect(answered).toBe(1)
    expect(holder.held).toBe(true)
    await holder.release()
    expect(await waiting).toBe(id)
  })

  test('two clients hammer one record over one connection: every call completes and no update is lost', async () => {
    const current = setup()
    const prisma = current.opened.connect({ connections: 1 })
    const mine = extendUnfenced(prisma, current.locks)
    const theirs = extendUnfenced(prisma, await another(current))
    const { id } = await mine.order.create({ data: {} })
    const add = (db: typeof mine) =>
      db.order.withLock(id, async (order, { tx }) => {
        await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
      })
    await Promise.all(Array.from({ length: 40 }, (_, i) => add(i % 2 ? theirs : mine)))
    expect((await mine.order.findUniqueOrThrow({ where: { id } })).total).toBe(40)
  })
})

onEveryDatabaseAndStore(
  'early_tx_pg',
  (setup) => {
    let admin: pg.Client
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: PG_URL })
      await admin.connect()
    })
    afterAll(async () => {
      await admin.end()
    })

    /** Whether a connection of `app` is in an open transaction within `ms`. */
    async function openTransaction(app: string, ms: number): Promise<boolean> {
      for (const until = performance.now() + ms; performance.now() < until; await sleep(5)) {
        const { rows } = await admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'",
          [app],
        )
        if (rows[0]!.n > 0) return true
      }
      return false
    }

    test('a free lock: the transaction has begun before the acquire is sent, and withLock completes', async () => {
      const current = setup()
      const app = `cachelock-early-${process.pid}`
      const prisma = current.opened.connect({ applicationName: app })
      const seen: boolean[] = []
      const store = beforeAcquire(current.store, async () => void seen.push(await openTransaction(app, 3000)))
      const db = extendUnfenced(prisma, createLockManager({ store, prefix: current.locks.prefix }))
      const { id } = await db.order.create({ data: {} })
      expect(await db.order.withLock(id, (order) => order.id)).toBe(id)
      expect(seen).toEqual([true])
    })
  },
  { databases: ['postgresql'] },
)
