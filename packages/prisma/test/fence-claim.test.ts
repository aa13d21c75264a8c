import pg from 'pg'
import { expect, test } from 'vitest'
import { createLockManager, LockLostError } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { PG_URL } from './helpers/databases.js'
import { extend, onEveryDatabaseAndStore, type Extended, type Setup } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

/**
 * Issue 22: a read-modify-write under a fenced lock loses no update to a holder that lost its
 * lock, whatever the order of the two holders' reads and writes. A and B are two "processes": two
 * clients on the same database, two managers on the same store and prefix. B takes the lock with
 * `steal`, which A's manager learns of only at its next renewal (seconds away): A runs on,
 * believing it holds the lock. Every step waits for the one before it; no step is timed.
 */
function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )

type Order = Awaited<ReturnType<Extended['order']['findUniqueOrThrow']>>

function holders(setup: Setup) {
  const { opened, locks, store } = setup
  const dbA = setup.db
  const dbB = extend(opened.connect(), createLockManager({ store, prefix: locks.prefix, sleep: 20 }))
  return { dbA, dbB }
}

onEveryDatabaseAndStore('fence_claim', (setup) => {
  test('A reads; B steals the lock and reads; A writes; B writes: A’s write is refused and no accepted update is lost', async () => {
    const { dbA, dbB } = holders(setup())
    const { id } = await dbA.order.create({ data: {} })
    const aRead = deferred<number>()
    const aGo = deferred()
    const bRead = deferred<number>()
    const bGo = deferred()
    const increment = (order: Order, tx: Pick<Extended, 'order'>, who: string) =>
      settle(tx.order.update({ where: { id }, data: { total: order.total + 1, note: who } }))

    let aWrite!: Awaited<ReturnType<typeof increment>>
    const a = dbA.order.withLock(
      id,
      async (order, { tx, lock }) => {
        aRead.resolve(lock.fencingToken)
        await aGo.promise
        aWrite = await increment(order, tx, 'A')
      },
      { transaction: false },
    )
    const tokenA = await aRead.promise
    let bWrite!: Awaited<ReturnType<typeof increment>>
    const b = dbB.order.withLock(
      id,
      async (order, { tx, lock }) => {
        expect(order.total).toBe(0)
        bRead.resolve(lock.fencingToken)
        await bGo.promise
        bWrite = await increment(order, tx, 'B')
      },
      { transaction: false, steal: true },
    )
    expect(await bRead.promise).toBeGreaterThan(tokenA)
    aGo.resolve()
    const aOutcome = await settle(a)
    bGo.resolve()
    await b

    // The ledger: every increment reported as accepted is in the row. Without the claim both
    // were accepted and the total is 1: A's update lost.
    const accepted = [aWrite, bWrite].filter((write) => write.ok).length
    expect(await dbA.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ total: accepted, note: 'B' })
    expect(aWrite.ok ? 'accepted' : aWrite.error).toBeInstanceOf(LockLostError)
    expect(aOutcome).toMatchObject({ ok: false, error: expect.any(LockLostError) })
    expect(bWrite.ok).toBe(true)
  })

  test('the claim is the read: one statement, UPDATE … RETURNING, before fn sees the row', async () => {
    const { opened, locks } = setup()
    const sent: string[] = []
    const db = extend(opened.connect({ onQuery: (sql) => sent.push(sql) }), locks)
    const { id } = await db.order.create({ data: { total: 7 } })
    sent.length = 0
    const seen = await db.order.withLock(
      id,
      async (order, { lock }) => {
        expect(order).toMatchObject({ id, total: 7, lockFence: BigInt(lock.fencingToken) })
        return [...sent]
      },
      { transaction: false },
    )
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatch(/^UPDATE .+ SET .lockFence. = .+ WHERE .+lockFence. <= .+ RETURNING /)
  })

  test('every row of a multi-row lock is claimed with its own lock’s token; a nested withLock on a claimed row claims it again', async () => {
    const { db } = setup()
    const first = await db.order.create({ data: {} })
    const second = await db.order.create({ data: {} })
    const fences = () => db.order.findMany({ orderBy: { id: 'asc' }, select: { lockFence: true } })
    const tokens = await db.order.withLock([second.id, first.id], async (orders, { locks }) => {
      expect(orders.map((order) => order.id)).toEqual([second.id, first.id])
      expect(orders.map((order) => order.lockFence)).toEqual(locks.map((lock) => BigInt(lock.fencingToken)))
      // Reentrant: the fence already equals the token, and the claim reads the row all the same.
      const again = await db.order.withLock(first.id, async (order, { lock }) => {
        expect(lock).toBe(locks[1])
        return order.lockFence
      })
      expect(again).toBe(BigInt(locks[1]!.fencingToken))
      return locks.map((lock) => BigInt(lock.fencingToken))
    })
    expect(await fences()).toEqual([{ lockFence: tokens[1] }, { lockFence: tokens[0] }])
  })

  test('the rows of a multi-row lock are claimed once each, in the order of their lock names, whatever order and repeats the caller gave', async () => {
    const { prisma, locks } = setup()
    const claimed: unknown[] = []
    // Below the lock extension: it sees the claims, which are updates of the fence column.
    const logged = prisma.$extends({
      query: {
        order: {
          update: ({ args, query }) => {
            claimed.push(args.where.id)
            return query(args)
          },
        },
      },
    })
    const db = logged.$extends(lockExtension({ locks, models: { Order: { fence: 'lockFence' } } }))
    const ids: number[] = []
    for (let i = 0; i < 3; i++) ids.push((await db.order.create({ data: {} })).id)
    const asked = [ids[2]!, ids[0]!, ids[2]!, ids[1]!]
    const seen = await db.order.withLock(asked, async (orders) => orders.map((order) => order.id))
    expect(seen).toEqual(asked)
    // As the locks were taken: two holders' claims never wait on each other's rows crosswise.
    expect(claimed).toEqual([...ids].sort((a, b) => (`order:id:${a}` < `order:id:${b}` ? -1 : 1)))
  })

  test('A reads; A’s lock is lost; A writes; B is granted, reads and writes: both updates are kept', async () => {
    const { dbA, dbB } = holders(setup())
    const { locks } = setup()
    const { id } = await dbA.order.create({ data: {} })
    const aRead = deferred()
    const aGo = deferred()
    let aWrite!: { ok: boolean }
    const a = dbA.order.withLock(
      id,
      async (order, { tx }) => {
        aRead.resolve()
        await aGo.promise
        aWrite = await settle(tx.order.update({ where: { id }, data: { total: order.total + 1, note: 'A' } }))
      },
      { transaction: false },
    )
    await aRead.promise
    await createLockManager({ store: setup().store, prefix: locks.prefix }).forceRelease(`order:id:${id}`)
    aGo.resolve()
    const aOutcome = await settle(a)
    // A's write landed before any newer holder claimed the row: it stands, and A is told of the
    // loss after fn (with `transaction: false` nothing can be undone).
    expect(aWrite.ok).toBe(true)
    expect(aOutcome).toMatchObject({ ok: false, error: expect.any(LockLostError) })
    const seenByB = await dbB.order.withLock(id, async (order, { tx }) => {
      await tx.order.update({ where: { id }, data: { total: order.total + 1, note: 'B' } })
      return order.total
    })
    expect(seenByB).toBe(1)
    expect(await dbA.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ total: 2, note: 'B' })
  })

  test('a holder whose row a newer holder claimed between its grant and its claim is rejected before fn runs', async () => {
    const { opened, locks, store } = setup()
    // A's client has one connection, and a transaction of the test's own holds it: A is granted
    // the lock, then waits for a connection (SQLite: for the adapter's one transaction) before its
    // claim, as a holder held up by a pause or a busy pool would.
    const clientA = opened.connect({ connections: 1 })
    const locksA = createLockManager({ store, prefix: locks.prefix, sleep: 20 })
    const dbA = extend(clientA, locksA)
    const { dbB } = holders(setup())
    const { id } = await dbA.order.create({ data: {} })
    const blocking = deferred()
    const unblock = deferred()
    const blocker = clientA.$transaction(
      async () => {
        blocking.resolve()
        await unblock.promise
      },
      { timeout: 20_000 },
    )
    await blocking.promise
    const calls: string[] = []
    const a = settle(dbA.order.withLock(id, async () => void calls.push('A'), { transaction: { maxWait: 20_000 } }))
    while ((await locksA.query()).held.length === 0) await sleep(5)
    await dbB.order.withLock(
      id,
      async (order, { tx }) => {
        calls.push('B')
        await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
      },
      { steal: true },
    )
    unblock.resolve()
    await blocker
    const outcome = await a
    expect(outcome).toMatchObject({ ok: false, error: expect.any(LockLostError) })
    expect(String((outcome as { error: Error }).error.message)).toMatch(/withLock did not call fn: .* a newer holder has claimed the row/)
    expect(calls).toEqual(['B'])
    expect((await dbA.order.findUniqueOrThrow({ where: { id } })).total).toBe(1)
  })
})

onEveryDatabaseAndStore(
  'fence_claim_tx',
  (setup) => {
    test('A’s check before commit passes just before B steals the lock and reads; A commits; B writes: both updates are kept', async () => {
      const { opened } = setup()
      const { dbA, dbB } = holders(setup())
      const { id } = await dbA.order.create({ data: {} })
      const aChecked = deferred()
      const bReading = deferred()
      const bRead = deferred()
      const a = dbA.order.withLock(id, async (order, { tx, lock }) => {
        await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
        // The check before commit passes; the lock is lost right after it, before the COMMIT.
        const check = lock.ensureHeld.bind(lock)
        lock.ensureHeld = async () => {
          await check()
          aChecked.resolve()
          await bReading.promise
        }
      })
      await aChecked.promise
      const b = dbB.order.withLock(
        id,
        async (order, { tx }) => {
          bRead.resolve()
          await a
          await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
        },
        { steal: true },
      )
      // B has read (no claim: the row as it was before A), or waits in its claim on A's row lock.
      await Promise.race([bRead.promise, waitingOnRowLock(opened.schema!)])
      bReading.resolve()
      await a
      await b
      expect((await dbA.order.findUniqueOrThrow({ where: { id } })).total).toBe(2)
    })
  },
  { databases: ['postgresql'] },
)

/** Resolves once a statement on this schema's tables waits for a row lock. */
async function waitingOnRowLock(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
        [`"${schema}"."Order"`],
      )
      if (Number(rows[0]!.n) > 0) return
      await sleep(5)
    }
  } finally {
    await client.end()
  }
}
