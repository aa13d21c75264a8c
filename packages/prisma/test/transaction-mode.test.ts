import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import pg from 'pg'
import { LockNotAcquiredError, createLockManager, type LockStore } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { PG_URL, openDatabase, type TestClient, type TestDatabase } from './helpers/databases.js'
import { sleep } from './helpers/stores.js'

/**
 * `lockIn: 'transaction'` on the real PostgreSQL: the record lock is an advisory lock of
 * `withLock`'s own transaction. "Another client" here is a second PrismaClient with a pool of its
 * own, or a plain `pg` connection writing the lock statement by hand, as another service would.
 */

/** A store that fails every call: the mode must never touch one. */
const noStore = new Proxy({} as LockStore, {
  get: (_, property) => (property === 'then' ? undefined : () => Promise.reject(new Error(`store.${String(property)} was called`))),
})
const locks = createLockManager({ store: noStore })

function extendIn(prisma: TestClient) {
  return prisma.$extends(lockExtension({ locks, lockIn: 'transaction', models: { Order: { fence: 'lockFence' } } }))
}

/** A plain connection taking the lock by hand, as the README shows. */
async function handWritten() {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  return {
    client,
    /** BEGIN and take the lock; COMMIT or ROLLBACK through `client` releases it. */
    lock: async (name: string) => {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name])
    },
    tryLock: async (name: string) =>
      (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [name])).rows[0]!.ok,
    end: () => client.end(),
  }
}

describe('lockIn: transaction (PostgreSQL)', () => {
  let opened: TestDatabase
  let other: TestClient
  beforeAll(async () => {
    opened = await openDatabase('postgresql', 'in_transaction')
    other = opened.connect({ connections: 4 })
  })
  afterAll(() => opened?.close())
  beforeEach(() => opened.reset())

  test('two clients contend for one row: every read-increment-write lands, none overlaps', async () => {
    const [a, b] = [extendIn(opened.prisma), extendIn(other)]
    const { id } = await a.order.create({ data: {} })
    let inside = 0
    let overlaps = 0
    const increment = (db: typeof a) =>
      db.order.withLock(id, async (order, { tx }) => {
        if (++inside > 1) overlaps++
        await sleep(1)
        await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
        inside--
      })
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (async () => {
          for (let n = 0; n < 5; n++) await increment(i % 2 === 0 ? a : b)
        })(),
      ),
    )
    expect(overlaps).toBe(0)
    expect((await a.order.findUniqueOrThrow({ where: { id } })).total).toBe(40)
  })

  test('a hand-written pg_advisory_xact_lock on the same name excludes withLock, and withLock excludes it', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    const name = `order:id:${id}`
    const manual = await handWritten()
    try {
      await manual.lock(name)
      expect(await extendIn(other).order.isLocked(id)).toBe(true)
      await expect(db.order.withLock(id, () => 'ran', { ifAvailable: true })).rejects.toBeInstanceOf(LockNotAcquiredError)
      const events: string[] = []
      const waiting = db.order.withLock(id, () => void events.push('withLock ran'))
      await sleep(150)
      events.push('manual commits')
      await manual.client.query('COMMIT')
      await waiting
      expect(events).toEqual(['manual commits', 'withLock ran'])

      let release!: () => void
      const held = db.order.withLock(id, () => new Promise<void>((resolve) => (release = resolve)))
      while (!release) await sleep(5)
      expect(await manual.tryLock(name)).toBe(false)
      release()
      await held
    } finally {
      await manual.end()
    }
  })

  test('rollback releases the lock: nothing is left locked, and nothing fn wrote is kept', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    const error = await db.order
      .withLock(id, async (_, { tx }) => {
        await tx.order.update({ where: { id }, data: { status: 'half done' } })
        expect(await extendIn(other).order.isLocked(id)).toBe(true)
        throw new Error('fn failed')
      })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ message: 'fn failed' })
    expect(await extendIn(other).order.isLocked(id)).toBe(false)
    const manual = await handWritten()
    expect(await manual.tryLock(`order:id:${id}`)).toBe(true)
    await manual.end()
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
  })

  test('a connection that dies ends the transaction and its lock together: nothing commits, the next holder gets it', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    const admin = await handWritten()
    const work = db.order.withLock(id, async (_, { tx }) => {
      await tx.order.update({ where: { id }, data: { status: 'orphaned' } })
      const [{ pid }] = await tx.$queryRawUnsafe<[{ pid: number }]>('SELECT pg_backend_pid() AS pid')
      await admin.client.query('SELECT pg_terminate_backend($1)', [pid])
      await tx.order.update({ where: { id }, data: { note: 'after' } })
    })
    await expect(work).rejects.toThrow()
    await admin.end()
    await extendIn(other).order.withLock(id, (order) => expect(order).toMatchObject({ status: 'new', note: null }), { timeout: 5000 })
  })

  test('timeout: lock_timeout for the lock statement only, reported as LockNotAcquiredError with the database error as cause', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    const manual = await handWritten()
    try {
      await manual.lock(`order:id:${id}`)
      const error = await db.order.withLock(id, () => 'ran', { timeout: 100 }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(LockNotAcquiredError)
      expect(error).toMatchObject({ lockName: `order:id:${id}` })
      expect((error as Error).cause).toBeDefined()
      await expect(db.order.withLock(id, () => 'ran', { timeout: 0 })).rejects.toBeInstanceOf(LockNotAcquiredError)
    } finally {
      await manual.client.query('ROLLBACK')
      await manual.end()
    }
    // Granted with a timeout, fn's own statements keep the session's lock_timeout.
    const setting = await db.order.withLock(id, async (_, { tx }) => tx.$queryRawUnsafe<[{ lock_timeout: string }]>('SHOW lock_timeout'), {
      timeout: 100,
    })
    expect(setting[0].lock_timeout).toBe('0')
  })

  test('fencing: the claim raises the fence by one per grant; it is the fencing token, and fenced writes carry it', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    const tokens: number[] = []
    for (let i = 0; i < 3; i++) {
      await db.order.withLock(id, async (order, { tx, lock }) => {
        tokens.push(lock.fencingToken)
        expect(BigInt(lock.fencingToken)).toBe(order.lockFence)
        await tx.order.update({ where: { id }, data: { total: { increment: 1 } } })
        await lock.ensureHeld() // no store: held while the transaction lives
      })
    }
    expect(tokens).toEqual([1, 2, 3])
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ total: 3, lockFence: 3n })
  })

  test('nested calls join the transaction: the same record does not wait for itself, another record is locked in it', async () => {
    const db = extendIn(opened.prisma)
    const a = await db.order.create({ data: {} })
    const b = await db.order.create({ data: {} })
    await db.order.withLock(a.id, async (_, { tx }) => {
      await tx.order.update({ where: { id: a.id }, data: { status: 'outer' } })
      await db.order.withLock(a.id, (again) => expect(again.status).toBe('outer'), { timeout: 1000 })
      await tx.order.withLock(b.id, (other) => tx.order.update({ where: { id: other.id }, data: { status: 'nested' } }))
      expect(await extendIn(other).order.isLocked(b.id)).toBe(true) // held until the outer transaction ends
    })
    expect(await extendIn(other).order.isLocked(b.id)).toBe(false)
    expect((await db.order.findUniqueOrThrow({ where: { id: b.id } })).status).toBe('nested')
  })

  test('options that cannot apply are refused before anything is locked', async () => {
    const db = extendIn(opened.prisma)
    const { id } = await db.order.create({ data: {} })
    await expect(db.order.withLock(id, () => 1, { steal: true })).rejects.toMatchObject({
      code: 'LOCK_NOT_SUPPORTED',
      argument: 'options.steal',
    })
    await expect(db.order.withLock(id, () => 1, { signal: AbortSignal.timeout(10) })).rejects.toMatchObject({
      code: 'LOCK_NOT_SUPPORTED',
      argument: 'options.signal',
    })
    await expect(db.order.withLock(id, () => 1, { transaction: false })).rejects.toMatchObject({ argument: 'options.transaction' })
    await expect(db.order.lock(id)).rejects.toMatchObject({ code: 'LOCK_NOT_SUPPORTED', argument: 'options.lockIn' })
    await expect(db.order.withLock(id, () => 1, { mode: 'shared' })).resolves.toBe(1)
  })
})

test('lockIn: transaction is refused on a client that is not PostgreSQL', async () => {
  const sqlite = await openDatabase('sqlite', 'in_transaction')
  try {
    expect(() => sqlite.prisma.$extends(lockExtension({ lockIn: 'transaction' }))).toThrow(
      expect.objectContaining({
        code: 'LOCK_NOT_SUPPORTED',
        argument: 'options.lockIn',
        message:
          'Expected `options.lockIn` to be "store" on a sqlite client ("transaction" takes PostgreSQL advisory locks), got "transaction" (string)',
      }),
    )
  } finally {
    await sqlite.close()
  }
})
