import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { LockError, LockLostError, type Lock } from '@cachelock/core'
import { PG_URL, type Env, type Process } from '../support/env.js'
import { deferred, sleep, unique } from '../support/helpers.js'

type Settled = { ok: true } | { ok: false; error: any }
const settle = (promise: Promise<unknown>): Promise<Settled> =>
  promise.then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  )

/**
 * Issue 22: a read-modify-write under a fenced lock loses no update to a holder that lost its
 * lock, whatever the order of the two holders' reads and writes. A and B are two processes (data
 * sources with their own connections and managers, one store). B takes the lock with `steal`,
 * which A's manager learns of only at its next renewal, seconds away: A runs on, believing it
 * holds the lock. Every step waits for the one before it.
 *
 * The ledger: an increment counts as accepted when its write resolved; the row must hold every
 * accepted increment. Without the claim (or on Product, which has no fence) A's increment is
 * accepted and then overwritten by B's, computed from the row as it was before A wrote.
 */
export function fenceClaimSuite(env: Env) {
  const model = (fenced: boolean) => (fenced ? 'fenced' : 'products')
  const increment = (manager: any, row: any, write: 'save' | 'update', who: string) =>
    settle(
      write === 'save'
        ? manager.save(Object.assign(row, { stock: row.stock + 1, note: who }))
        : manager.update(row.constructor, { sku: row.sku }, { stock: row.stock + 1, note: who }),
    )

  /** A reads; B steals the lock and reads; A writes; B writes. */
  async function readsThenWrites(a: Process, b: Process, fenced: boolean, write: 'save' | 'update') {
    const sku = unique()
    await a.repos[model(fenced)].insert({ sku, stock: 0 })
    const [aRead, aGo, bRead, bGo] = [deferred<number>(), deferred(), deferred<number>(), deferred()]
    let aWrite!: Settled
    let bWrite!: Settled
    const aDone = settle(
      a.repos[model(fenced)].withLock(
        sku,
        async (row: any, manager: any, lock: Lock) => {
          aRead.resolve(lock.fencingToken)
          await aGo.promise
          aWrite = await increment(manager, row, write, 'A')
        },
        { transaction: false },
      ),
    )
    const tokenA = await aRead.promise
    const bDone = b.repos[model(fenced)].withLock(
      sku,
      async (row: any, manager: any, lock: Lock) => {
        bRead.resolve(lock.fencingToken)
        await bGo.promise
        bWrite = await increment(manager, row, write, 'B')
      },
      { transaction: false, steal: true },
    )
    expect(await bRead.promise).toBeGreaterThan(tokenA)
    aGo.resolve()
    const aOutcome = await aDone
    bGo.resolve()
    await bDone
    const row: any = await a.repos[model(fenced)].findOneByOrFail({ sku })
    const accepted = [aWrite, bWrite].filter((w) => w.ok).length
    return { aWrite, aOutcome, bWrite, accepted, row }
  }

  describe('the claim before the read (issue 22)', () => {
    for (const write of ['save', 'update'] as const) {
      it(`A reads; B steals and reads; A writes (${write}); B writes: A is refused, no accepted update is lost`, async () => {
        const [a, b] = [await env.process(), await env.process()]
        const fenced = await readsThenWrites(a, b, true, write)
        expect(fenced.row).toMatchObject({ stock: fenced.accepted, note: 'B' })
        expect(fenced.aWrite.ok ? 'accepted' : fenced.aWrite.error).toBeInstanceOf(LockLostError)
        expect(fenced.bWrite.ok).toBe(true)

        // The same steps on Product (no fence column): both writes accepted, A's increment lost.
        const unfenced = await readsThenWrites(a, b, false, write)
        expect(unfenced.accepted).toBe(2)
        expect(unfenced.row.stock).toBe(1)
      })
    }

    it('A reads; A’s lock is lost; A writes; B is granted, reads and writes: both updates are kept', async () => {
      const [a, b] = [await env.process(), await env.process()]
      const sku = unique()
      await a.repos.fenced.insert({ sku, stock: 0 })
      const [aRead, aGo] = [deferred(), deferred()]
      let aWrite!: Settled
      const aDone = settle(
        a.repos.fenced.withLock(
          sku,
          async (row: any, manager: any) => {
            aRead.resolve()
            await aGo.promise
            aWrite = await increment(manager, row, 'save', 'A')
          },
          { transaction: false },
        ),
      )
      await aRead.promise
      await env.store.forceRelease(a.locks.keyFor(`fencedProduct:sku:${sku}`))
      aGo.resolve()
      // A's write landed before any newer holder claimed the row: it stands, and A hears of the
      // loss after fn (with `transaction: false` nothing can be undone).
      expect((await aDone).ok).toBe(false)
      expect(aWrite.ok).toBe(true)
      const seen = await b.repos.fenced.withLock(sku, async (row: any, manager: any) => {
        const stock = row.stock
        expect((await increment(manager, row, 'save', 'B')).ok).toBe(true)
        return stock
      })
      expect(seen).toBe(1)
      expect(await a.repos.fenced.findOneByOrFail({ sku })).toMatchObject({ stock: 2, note: 'B' })
    })

    it('withLock: a holder whose row a newer holder claimed between its grant and its claim is rejected before fn runs', async () => {
      const [a, b] = [await env.process(), await env.process()]
      const sku = unique()
      await a.repos.fenced.insert({ sku, stock: 0 })
      // A is granted the lock, then held up before its transaction (and its claim) starts, as a
      // holder waiting for a pool connection or paused would be.
      const [starting, go] = [deferred(), deferred()]
      a.dataSource.subscribers.push({
        beforeTransactionStart: async () => {
          starting.resolve()
          await go.promise
        },
      })
      const calls: string[] = []
      const aDone = settle(a.repos.fenced.withLock(sku, () => void calls.push('A')))
      await starting.promise
      await b.repos.fenced.withLock(
        sku,
        async (row: any, manager: any) => {
          calls.push('B')
          await increment(manager, row, 'save', 'B')
        },
        { steal: true },
      )
      go.resolve()
      const outcome = await aDone
      expect(outcome).toMatchObject({ ok: false, error: expect.any(LockLostError) })
      // The claim's own error, saying why, rather than only the lock's loss.
      expect((outcome as { error: Error }).error.message).toMatch(/a newer holder has claimed this FencedProduct row/)
      expect(calls).toEqual(['B'])
      expect(await a.repos.fenced.findOneByOrFail({ sku })).toMatchObject({ stock: 1, note: 'B' })
    })

    it('lock(): A locks and reads; B steals with lock() and reads; A saves; B saves: A is refused', async () => {
      const [a, b] = [await env.process(), await env.process()]
      const sku = unique()
      await a.repos.fenced.insert({ sku, stock: 0 })
      const [aRead, aGo, bRead, bGo] = [deferred(), deferred(), deferred(), deferred()]
      // Each holder in an async flow of its own, as two requests are.
      const holder = async (p: Process, options: object, read: { resolve(): void }, go: Promise<void>, who: string) => {
        const handle = await p.repos.fenced.lock(sku, options)
        try {
          const row: any = await p.repos.fenced.findOneByOrFail({ sku })
          read.resolve()
          await go
          // The handle's writes: inside run(), where the guard lets them through (issue 13 §1).
          return await handle
            .run(() => increment(p.dataSource.manager, row, 'save', who))
            .catch((error: unknown) => settle(Promise.reject(error)))
        } finally {
          await handle.release().catch(() => undefined)
        }
      }
      const aWrite = holder(a, {}, aRead, aGo.promise, 'A')
      await aRead.promise
      const bWrite = holder(b, { steal: true }, bRead, bGo.promise, 'B')
      await bRead.promise
      aGo.resolve()
      const aOutcome = await aWrite
      bGo.resolve()
      const bOutcome = await bWrite
      const accepted = [aOutcome, bOutcome].filter((w) => w.ok).length
      expect(await a.repos.fenced.findOneByOrFail({ sku })).toMatchObject({ stock: accepted, note: 'B' })
      expect(aOutcome.ok ? 'accepted' : aOutcome.error).toBeInstanceOf(LockError)
    })

    // On PostgreSQL every process has its own connections. (In one Node process, better-sqlite3's
    // connections wait for each other synchronously, so B waiting on A's transaction cannot be
    // staged on SQLite; there a write transaction excludes every other writer anyway.)
    for (const via of ['withLock', "lock(…, { until: 'transaction' })"] as const) {
      it.runIf(env.config?.db !== 'sqlite')(
        `${via}: A writes and its check before commit passes; B steals and reads; A commits; B writes: both kept`,
        async () => {
          const [a, b] = [await env.process(), await env.process()]
          const sku = unique()
          await a.repos.fenced.insert({ sku, stock: 0 })
          const [aChecked, bReading, bRead] = [deferred(), deferred(), deferred()]
          // The check before commit passes; the lock is lost right after it, before the COMMIT.
          const delayAfterCheck = (lock: Lock) => {
            const check = lock.ensureHeld.bind(lock)
            lock.ensureHeld = async () => {
              await check()
              aChecked.resolve()
              await bReading.promise
            }
          }
          const work = async (p: Process, manager: any, lock: Lock | undefined, read: { resolve(): void }, wait: Promise<unknown>) => {
            const row: any = await manager.findOneByOrFail(env.entities.FencedProduct, { sku })
            if (lock) delayAfterCheck(lock)
            read.resolve()
            await wait
            await manager.save(Object.assign(row, { stock: row.stock + 1 }))
          }
          const run = (p: Process, options: object, read: { resolve(): void }, wait: Promise<unknown>, isA: boolean) =>
            via === 'withLock'
              ? p.repos.fenced.withLock(
                  sku,
                  (_row: any, manager: any, lock: Lock) => work(p, manager, isA ? lock : undefined, read, wait),
                  options,
                )
              : p.dataSource.transaction(async (manager: any) => {
                  const handle = await manager.withRepository(p.repos.fenced).lock(sku, { ...options, until: 'transaction' })
                  await work(p, manager, isA ? handle : undefined, read, wait)
                })
          const aDone = run(a, {}, { resolve() {} }, Promise.resolve(), true)
          await aChecked.promise
          const bDone = run(b, { steal: true }, bRead, aDone, false)
          // B has read (no claim: the row as it was before A), or waits in its claim on A's row lock.
          await Promise.race([bRead.promise, waitingOnRowLock(a)])
          bReading.resolve()
          await aDone
          await bDone
          expect((await a.repos.fenced.findOneByOrFail({ sku })).stock).toBe(2)
        },
      )
    }
  })
}

/** Resolves once a statement on this data source's schema waits for a row lock. */
async function waitingOnRowLock(p: Process): Promise<void> {
  const schema = (p.dataSource.options as { schema?: string }).schema!
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
        [schema],
      )
      if (Number(rows[0]!.n) > 0) return
      await sleep(5)
    }
  } finally {
    await client.end()
  }
}
