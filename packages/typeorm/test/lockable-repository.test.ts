import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockError, channelNames } from '@cachelock/core'
import { lockableRepository } from '@cachelock/typeorm'
import type { DataSource } from 'typeorm'
import { useEnv } from './support/env.js'
import { recordEvents, rejection, unique } from './support/helpers.js'

/**
 * The repository methods' edges on SQLite: which argument a refusal names, a data source that was
 * never installed, a fence claim that fails in `lock()`, a transaction that ends while `lock()` waits.
 */
describe('lockableRepository', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  const newProduct = async () => {
    const sku = unique()
    await env.repos.products.insert({ sku, stock: 5 })
    return sku
  }
  /** The `InvalidLockArgumentError` a call rejects with. */
  async function refusal(call: Promise<unknown>): Promise<InvalidLockArgumentError> {
    const error = await rejection(call)
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return error as InvalidLockArgumentError
  }

  it('names the argument, down to the field or array element, in every method', async () => {
    const sku = await newProduct()
    const { products } = env.repos as { products: any }
    const cases: [Promise<unknown>, string, string][] = [
      [
        products.isLocked({ sku: {} }),
        'where.sku',
        'Expected `where.sku` to be a string, number, bigint, boolean, Date or bytes, got an object',
      ],
      [
        products.lock({ id: 1 }),
        'where',
        'Expected `where` to be { sku } (how Product rows are locked) or the sku value itself, got { id }',
      ],
      [
        products.lock({ sku: {} }),
        'where.sku',
        'Expected `where.sku` to be a string, number, bigint, boolean, Date or bytes, got an object',
      ],
      [
        products.withLock([sku, { id: 1 }], () => undefined),
        'where[1]',
        'Expected `where[1]` to be { sku } (how Product rows are locked) or the sku value itself, got { id }',
      ],
      [products.withLock([], () => undefined), 'where', 'Expected `where` to be a non-empty array of rows, got an empty array'],
    ]
    for (const [call, argument, message] of cases) expect(await refusal(call), argument).toMatchObject({ argument, message })
    expect((await env.locks.query()).held).toEqual([])
  })

  it('refuses to take a lock its own flow holds, naming the lock', async () => {
    const sku = await newProduct()
    const error = await env.repos.products.withLock(sku, () => refusal(env.repos.products.lock({ sku })))
    expect(error).toMatchObject({
      argument: 'where',
      code: 'LOCK_NOT_SUPPORTED',
      message: `Lock "product:sku:${sku}" is already held by this flow or transaction; use the lock you hold`,
    })
    expect(await env.repos.products.isLocked(sku)).toBe(false)
  })

  it("refuses `until: 'transaction'` outside a transaction, and withLock inside one the caller started", async () => {
    const sku = await newProduct()
    expect(await refusal(env.repos.products.lock(sku, { until: 'transaction' }))).toMatchObject({
      argument: 'options.until',
      message:
        "`until: 'transaction'` needs a repository bound to an open transaction: dataSource.transaction(async (m) => m.withRepository(repo).lock(…))",
    })
    const inside = await rejection(
      env.dataSource.transaction((manager) => manager.withRepository(env.repos.products).withLock(sku, () => 'ran')),
    )
    expect(inside).toBeInstanceOf(InvalidLockArgumentError)
    expect(inside).toMatchObject({
      argument: 'repository',
      code: 'LOCK_NOT_SUPPORTED',
      message:
        "withLock cannot run on a repository bound to a transaction you started (it would release its locks before your commit); use repository.lock(where, { until: 'transaction' }) there",
    })
    expect(await env.repos.products.isLocked(sku)).toBe(false)
  })

  describe('on a data source that was not installed', () => {
    let plain: DataSource
    const repos = async () => {
      plain ??= await env.dataSourceFor([env.entities.Product, env.entities.FencedProduct]).initialize()
      return {
        products: plain.getRepository(env.entities.Product).extend(lockableRepository),
        fenced: plain.getRepository(env.entities.FencedProduct).extend(lockableRepository),
      }
    }

    it('locks with the default lock manager, nested out of order without a strict check', async () => {
      const { products } = await repos()
      const [a, b] = [await newProduct(), await newProduct()].sort() as [string, string]
      expect(await products.isLocked(a)).toBe(false)
      const { events, result } = await recordEvents(channelNames.lockOrder, async () => {
        const handle = await products.lock(b)
        const inner = await handle.run(async () => {
          const nested = await products.lock(a) // after b: out of order, published, not thrown
          const held = await products.isLocked(a)
          await nested.release()
          return held
        })
        await handle.release()
        return [inner, await products.withLock(b, () => products.withLock(a, (row) => row.stock))]
      })
      expect(result).toEqual([true, 5])
      expect(events.map((event: { thrown: boolean }) => event.thrown)).toEqual([false, false])
      expect(await products.isLocked(a)).toBe(false)
      expect(await products.isLocked(b)).toBe(false)
    })

    it("refuses `until: 'transaction'` (no subscriber would release it) and a fenced entity (no fenced writes)", async () => {
      const { products, fenced } = await repos()
      const sku = await newProduct()
      const error = await refusal(plain.transaction((manager) => manager.withRepository(products).lock(sku, { until: 'transaction' })))
      expect(error).toMatchObject({
        argument: 'options.until',
        message: "`until: 'transaction'` needs installModelLocks(dataSource): its subscriber releases the lock when the transaction ends",
      })
      expect(await products.isLocked(sku)).toBe(false)
      expect(await refusal(fenced.withLock(unique(), () => undefined, { missing: 'allow' }))).toMatchObject({
        argument: 'dataSource',
        message: 'FencedProduct has a fence column: call installModelLocks(dataSource) so its entity writes are fenced',
      })
      await plain.destroy()
    })
  })

  it('releases the lock when its fence claim fails, in lock() and in a transaction', async () => {
    const sku = unique()
    await env.repos.fenced.insert({ sku, stock: 5 })
    // The fence raised by hand, past any token this store has given: no claim can succeed.
    const writer = env.otherWriter()
    await writer.run('UPDATE "fenced_product" SET "lockFence" = ? WHERE "sku" = ?', [1e12, sku])
    await writer.close()
    const refused = /^This FencedProduct row cannot be written under lock "fencedProduct:sku:.*": its lockFence is 1000000000000, past/
    const error = await rejection(env.repos.fenced.lock(sku))
    expect(error).toBeInstanceOf(LockError)
    expect(error.message).toMatch(refused)
    expect(await env.repos.fenced.isLocked(sku)).toBe(false)
    const inTransaction = await rejection(
      env.dataSource.transaction(async (manager) => {
        const error = await rejection(manager.withRepository(env.repos.fenced).lock(sku, { until: 'transaction' }))
        expect(await env.repos.fenced.isLocked(sku)).toBe(false) // released at once, not at the transaction's end
        throw error
      }),
    )
    expect(inTransaction).toBeInstanceOf(LockError)
    expect(inTransaction.message).toMatch(refused)
    expect(await env.repos.fenced.isLocked(sku)).toBe(false)
  })

  it("releases a lock granted after its transaction ended, and says so (`until: 'transaction'`)", async () => {
    const sku = await newProduct()
    const other = await env.process()
    const held = await other.repos.products.lock(sku)
    let pending!: Promise<unknown>
    await env.dataSource.transaction(async (manager) => {
      pending = manager.withRepository(env.repos.products).lock(sku, { until: 'transaction' })
      pending.catch(() => undefined) // it waits for the other process's lock, past the commit: awaited below
    })
    await held.release()
    expect(await refusal(pending)).toMatchObject({
      argument: 'options.until',
      message: 'The transaction ended while the lock was being acquired',
    })
    expect(await other.repos.products.isLocked(sku)).toBe(false)
  })
})
