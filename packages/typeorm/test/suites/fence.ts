import { describe, expect, it } from 'vitest'
import { LockLostError } from '@cachelock/core'
import type { Env, Process } from '../support/env.js'
import { deferred, sleep, unique } from '../support/helpers.js'

/**
 * Issue 10, part 1: fenced writes, "the hard way". Holder A (one process) stalls; meanwhile its
 * lock disappears from the store without A's process hearing of it (a memcached eviction, or an
 * expiry A's paused process never saw: `autoExtend: false` and a long local ttl keep A believing
 * it holds the lock). B (another process) takes the lock and writes; A wakes and writes. A must
 * write nothing.
 *
 * A runs with `transaction: false` so neither the pre-commit ownership check (part 2) nor the
 * database's own isolation can save B's write: only the fence stands between A and B's row. The
 * same race on a model without a fence column loses B's write, which shows the test can fail.
 */
export function fenceSuite(env: Env) {
  type Write = 'save' | 'update' | 'decrement' | 'remove'
  const unaware = { ttl: 10_000, autoExtend: false }

  /** A takes the lock and stalls until `wake`; then the store drops A's lock; B locks and writes. */
  async function race(model: 'fenced' | 'products', write: Write, a: Process, b: Process, options: object = { transaction: false }) {
    const sku = unique()
    await a.repos[model].insert({ sku, stock: 10 })
    const holding = deferred()
    const wake = deferred()
    const stale = a.repos[model].withLock(
      sku,
      async (row: any, manager: any) => {
        holding.resolve()
        await wake.promise
        if (write === 'save') await manager.save(Object.assign(row, { note: 'A', stock: 1 }))
        if (write === 'update') await manager.update(row.constructor, { sku }, { note: 'A', stock: 1 })
        if (write === 'decrement') await manager.getRepository(row.constructor).decrement({ sku }, 'stock', 9)
        if (write === 'remove') await manager.remove(row)
      },
      { ...unaware, ...options },
    )
    const aOutcome = stale.then(
      () => 'written',
      (error: unknown) => error,
    )
    await holding.promise
    await env.store.forceRelease(a.locks.keyFor(`${model === 'fenced' ? 'fencedProduct' : 'product'}:sku:${sku}`))
    const bWrite = b.repos[model].withLock(sku, async (row: any, manager: any) => {
      row.note = `B after ${row.note || 'nobody'}`
      row.stock = 2
      await manager.save(row)
    })
    const transactional = !('transaction' in options)
    // With a transaction, A's claim holds the row: B's claim waits in the database until A is done.
    if (transactional) await sleep(50)
    else await bWrite
    wake.resolve()
    await bWrite
    return { a: (await aOutcome) as any, row: (await b.repos[model].findOneBy({ sku })) as any }
  }

  describe('fenced writes', () => {
    for (const write of ['save', 'update', 'decrement', 'remove'] as const) {
      it(`reject a stale holder's ${write} after a newer holder wrote; without a fence column it is lost`, async () => {
        const [a, b] = [await env.process(), await env.process()]
        const fenced = await race('fenced', write, a, b)
        expect(fenced.a).toBeInstanceOf(LockLostError)
        expect(fenced.a.message).toMatch(
          /was lost \(expired\): a newer holder has claimed this FencedProduct row \(its lockFence is \d+, past this holder.s fencing token \d+\)/,
        )
        expect(fenced.row).toMatchObject({ note: 'B after nobody', stock: 2 })
        expect(Number(fenced.row!.lockFence)).toBeGreaterThan(0)

        // The same race on Product, which has no fence: A's late write overwrites or deletes B's.
        const unfenced = await race('products', write, a, b)
        expect(unfenced.row?.note === 'B after nobody' && unfenced.row.stock === 2).toBe(false)
      })
    }

    // On PostgreSQL every process has its own connections. (In one Node process, better-sqlite3's
    // connections wait for each other synchronously, so this race cannot be staged on SQLite.)
    it.runIf(env.config?.db !== 'sqlite')(
      'keep a stale holder in its transaction from overwriting a newer holder (transaction on)',
      async () => {
        const [a, b] = [await env.process(), await env.process()]
        const fenced = await race('fenced', 'save', a, b, {})
        expect(fenced.a).toBeInstanceOf(LockLostError)
        // B's read waited for A's rollback, so it saw the row as it was before A.
        expect(fenced.row).toMatchObject({ note: 'B after nobody', stock: 2 })
      },
    )

    it('stamp rows created under the lock with the holder token', async () => {
      const sku = unique()
      const token = await env.repos.fenced.withLock(
        sku,
        async (row, manager, lock) => {
          expect(row).toBeNull()
          await manager.save(env.entities.FencedProduct, { sku, stock: 1 })
          return lock.fencingToken
        },
        { missing: 'allow' },
      )
      expect(Number((await env.repos.fenced.findOneByOrFail({ sku })).lockFence)).toBe(token)
    })
  })
}
