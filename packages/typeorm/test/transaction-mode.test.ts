import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { LockNotAcquiredError } from '@cachelock/core'
import { installModelLocks } from '@cachelock/typeorm'
import { PG_URL, useEnv, type Process } from './support/env.js'
import { rejection, sleep, unique } from './support/helpers.js'

/**
 * `installModelLocks(dataSource, { lockIn: 'transaction' })` on the real PostgreSQL: row locks are
 * advisory locks of `withLock`'s transaction. Each "process" is a data source with its own pool;
 * the hand-written side is a plain `pg` connection running the statement the README shows.
 */
async function handWritten() {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  return {
    client,
    /** BEGIN and take the lock; COMMIT or ROLLBACK through `client` releases it. */
    async lock(name: string) {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name])
    },
    async tryLock(name: string) {
      return (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [name])).rows[0]!.ok
    },
    end: () => client.end(),
  }
}

describe('TypeORM 1.x on PostgreSQL, lockIn: transaction', () => {
  const env = useEnv({ line: '1.x', db: 'postgres', store: 'memory' })
  let a: Process
  let b: Process
  const both = async () => {
    a ??= await env.process({ lockIn: 'transaction' })
    b ??= await env.process({ lockIn: 'transaction' })
    return { a, b }
  }

  test('two data sources contend for one row: every read-increment-write lands, none overlaps', async () => {
    const { a, b } = await both()
    const sku = unique()
    await a.repos.products.save({ sku, stock: 0 })
    let inside = 0
    let overlaps = 0
    const increment = (p: Process) =>
      p.repos.products.withLock({ sku }, async (product, manager) => {
        if (++inside > 1) overlaps++
        await sleep(1)
        await manager.update(env.entities.Product, { sku }, { stock: product.stock + 1 })
        inside--
      })
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        for (let n = 0; n < 5; n++) await increment(i % 2 === 0 ? a : b)
      }),
    )
    expect(overlaps).toBe(0)
    expect((await a.repos.products.findOneByOrFail({ sku })).stock).toBe(30)
  })

  test('the hand-written lock statement excludes withLock and is excluded by it; rollback leaves nothing locked', async () => {
    const { a, b } = await both()
    const sku = unique()
    await a.repos.products.save({ sku, stock: 1 })
    const name = `product:sku:${sku}`
    const manual = await handWritten()
    try {
      await manual.lock(name)
      expect(await b.repos.products.isLocked({ sku })).toBe(true)
      expect(await rejection(a.repos.products.withLock({ sku }, () => 1, { ifAvailable: true }))).toBeInstanceOf(LockNotAcquiredError)
      const timedOut = await rejection(a.repos.products.withLock({ sku }, () => 1, { timeout: 100 }))
      expect(timedOut).toBeInstanceOf(LockNotAcquiredError)
      expect(timedOut.cause).toBeDefined()
      await manual.client.query('COMMIT')

      const failed = await rejection(
        a.repos.products.withLock({ sku }, async (product, manager) => {
          await manager.update(env.entities.Product, { sku }, { stock: 99 })
          expect(await manual.tryLock(name)).toBe(false)
          expect(await b.repos.products.isLocked({ sku })).toBe(true)
          throw new Error('fn failed')
        }),
      )
      expect(failed.message).toBe('fn failed')
      expect(await b.repos.products.isLocked({ sku })).toBe(false)
      expect(await manual.tryLock(name)).toBe(true)
      await manual.client.query('SELECT pg_advisory_unlock_all()')
      expect((await a.repos.products.findOneByOrFail({ sku })).stock).toBe(1)
    } finally {
      await manual.end()
    }
  })

  test('fencing: each grant raises the fence by one, and that is the fencing token the writes carry', async () => {
    const { a } = await both()
    const sku = unique()
    await a.repos.fenced.save({ sku, stock: 0 })
    const tokens: number[] = []
    for (let i = 0; i < 3; i++) {
      await a.repos.fenced.withLock({ sku }, async (product, manager, lock) => {
        tokens.push(lock.fencingToken)
        expect(Number(product.lockFence)).toBe(lock.fencingToken)
        product.stock += 1
        await manager.save(product)
        await manager.update(env.entities.FencedProduct, { sku }, { note: `grant ${i}` })
      })
    }
    expect(tokens).toEqual([1, 2, 3])
    expect(await a.repos.fenced.findOneByOrFail({ sku })).toMatchObject({ stock: 3, note: 'grant 2' })
    expect(Number((await a.repos.fenced.findOneByOrFail({ sku })).lockFence)).toBe(3)
  })

  test('on a repository bound to your transaction the lock lasts until that transaction ends; nested calls join', async () => {
    const { a, b } = await both()
    const [x, y] = [unique(), unique()]
    await a.repos.products.save([
      { sku: x, stock: 0 },
      { sku: y, stock: 0 },
    ])
    await a.dataSource.transaction(async (manager) => {
      const products = manager.withRepository(a.repos.products)
      await products.withLock({ sku: x }, async (product, m) => {
        await m.update(env.entities.Product, { sku: x }, { stock: 1 })
        // Unbound repositories inside fn join this transaction: the same row does not wait for itself.
        await a.repos.products.withLock({ sku: x }, (again) => expect(again.stock).toBe(1), { timeout: 1000 })
        await a.repos.products.withLock({ sku: y }, (other, n) => n.update(env.entities.Product, { sku: y }, { stock: 2 }))
      })
      expect(await b.repos.products.isLocked({ sku: x })).toBe(true)
      expect(await b.repos.products.isLocked({ sku: y })).toBe(true)
    })
    expect(await b.repos.products.isLocked({ sku: x })).toBe(false)
    expect((await b.repos.products.findOneByOrFail({ sku: y })).stock).toBe(2)
  })

  test('the guard refuses a save of a row another transaction holds, and lets the holder’s own saves through', async () => {
    const { a, b } = await both()
    const sku = unique()
    const saved = await a.repos.products.save({ sku, stock: 5 })
    let release!: () => void
    const holding = a.repos.products.withLock({ sku }, async (product, manager) => {
      await new Promise<void>((resolve) => (release = resolve))
      product.stock = 4
      await manager.save(product)
    })
    while (!release) await sleep(5)
    const refused = await b.repos.products.save({ ...saved, stock: 0 }).catch((error: unknown) => error)
    release()
    await holding
    expect(refused).toMatchObject({ name: 'LockedRowError' })
    expect((await b.repos.products.findOneByOrFail({ sku })).stock).toBe(4)
  })

  test('what cannot apply is refused: lock(), steal, transaction: false, a data source that is not PostgreSQL', async () => {
    const { a } = await both()
    const sku = unique()
    await a.repos.products.save({ sku, stock: 1 })
    expect(await rejection(a.repos.products.lock({ sku }))).toMatchObject({
      code: 'LOCK_NOT_SUPPORTED',
      argument: 'options.lockIn',
      message:
        "lock() returns a handle held until you release it, and a lock held by a transaction (lockIn: 'transaction') has none: use withLock (on a repository bound to your transaction, it holds the lock until that transaction ends)",
    })
    expect(await rejection(a.repos.products.withLock({ sku }, () => 1, { steal: true }))).toMatchObject({ argument: 'options.steal' })
    expect(await rejection(a.repos.products.withLock({ sku }, () => 1, { transaction: false }))).toMatchObject({
      argument: 'options.transaction',
    })
    const sqlite = new env.orm.DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [] })
    expect(() => installModelLocks(sqlite, { lockIn: 'transaction' })).toThrow(
      expect.objectContaining({
        code: 'LOCK_NOT_SUPPORTED',
        argument: 'options.lockIn',
        message:
          'Expected `options.lockIn` to be "store" on a better-sqlite3 data source ("transaction" takes PostgreSQL advisory locks), got "transaction" (string)',
      }),
    )
  })
})
