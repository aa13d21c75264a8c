import { randomInt } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import pg from 'pg'
import { lockExtension } from '@cachelock/prisma'
import { PG_URL, openDatabase, type TestDatabase } from './helpers/databases.js'
import { sleep } from './helpers/stores.js'

/**
 * `lockIn: 'transaction'` with several records: the advisory locks are taken in the order of their
 * names, whatever order the caller gives, so two calls locking the same records never deadlock.
 * The order is seen from outside, on the server: which lock a waiting call already holds.
 */

const key = 'hashtextextended($1, 0)'

describe('lockIn: transaction, several records in one call (PostgreSQL)', () => {
  let opened: TestDatabase
  let admin: pg.Client
  beforeAll(async () => {
    opened = await openDatabase('postgresql', 'tx_lock_order')
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
  })
  afterAll(async () => {
    await admin?.end()
    await opened?.close()
  })
  beforeEach(() => opened.reset())

  /** Two orders whose lock names sort as their ids; ids of their own, as advisory locks span the database's schemas. */
  async function twoOrders() {
    const db = opened.prisma.$extends(lockExtension({ lockIn: 'transaction' }))
    const first = 100_000_000 + randomInt(800_000_000)
    const [earlier, later] = [first, first + 1]
    await db.order.createMany({ data: [{ id: earlier }, { id: later }] })
    return { db, earlier, later, nameOf: (id: number) => `order:id:${id}` }
  }

  /** A transaction of another connection holding `name`'s lock until `release`. */
  async function holdElsewhere(name: string) {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    await client.query('BEGIN')
    await client.query(`SELECT pg_advisory_xact_lock(${key})`, [name])
    return {
      release: async () => {
        await client.query('COMMIT')
        await client.end()
      },
    }
  }

  /** Resolves once `count` transactions wait for a lock on any of `names`. */
  async function waiting(names: string[], count: number) {
    for (;;) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks, unnest($1::text[]) AS name WHERE locktype = 'advisory' AND objsubid = 1 AND NOT granted ` +
          `AND classid::bigint = ((hashtextextended(name, 0) >> 32) & 4294967295) AND objid::bigint = (hashtextextended(name, 0) & 4294967295)`,
        [names],
      )
      if (rows[0]!.n >= count) return
      await sleep(10)
    }
  }

  test('in either order given, the call takes the record whose name sorts first, then waits for the other', async () => {
    const { db, earlier, later, nameOf } = await twoOrders()
    for (const given of [
      [later, earlier],
      [earlier, later],
    ]) {
      const holder = await holdElsewhere(nameOf(later))
      const call = db.order.withLock(given, async (orders) => orders.map((order) => order.id))
      await waiting([nameOf(later)], 1)
      // Waiting for `later`, it already holds `earlier`: the order every other call takes them in.
      expect(await db.order.isLocked(earlier)).toBe(true)
      await holder.release()
      expect(await call).toEqual(given) // fn gets the records in the caller's order
      expect(await db.order.isLocked(earlier)).toBe(false)
    }
  })

  test('two calls locking [later, earlier] and [earlier, later] at once both get through: no deadlock', async () => {
    const { db, earlier, later, nameOf } = await twoOrders()
    // Hold `later` so both calls are sure to be waiting before either goes on.
    const holder = await holdElsewhere(nameOf(later))
    const one = db.order.withLock([later, earlier], async () => 'one')
    await waiting([nameOf(later)], 1)
    const two = db.order.withLock([earlier, later], async () => 'two')
    await waiting([nameOf(earlier), nameOf(later)], 2)
    await holder.release()
    // Taken in the caller's order instead, `one` would get `later` and wait for `earlier`, which
    // `two` holds while it waits for `later`: PostgreSQL's deadlock detector would fail one of them.
    expect(await Promise.allSettled([one, two])).toEqual([
      { status: 'fulfilled', value: 'one' },
      { status: 'fulfilled', value: 'two' },
    ])
  })
})
