import { afterAll, describe, expect, test, vi } from 'vitest'
import { createLockManager } from '../../../src/index.js'
import { InvalidLockArgumentError, LockError } from '../../../src/errors.js'
import { PostgresStore } from '../../../src/stores/postgres/postgres-store.js'
import { appPool, closeAll, openStore, owner, request, uniqueKey, uniqueTable } from './helpers.js'

afterAll(closeAll)

/** The database's clock in µs, read directly. */
async function databaseMicros(): Promise<number> {
  const { rows } = await appPool().query<{ us: string }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us`)
  return Number(rows[0]!.us)
}

describe('PostgresStore', () => {
  test('expiry and fencing tokens come from the database clock, not the app server’s', async () => {
    const store = openStore()
    // This app server's clock is an hour fast: nothing the store decides may follow it.
    const fast = vi.spyOn(Date, 'now').mockImplementation(() => performance.timeOrigin + performance.now() + 3_600_000)
    try {
      const key = uniqueKey('clock')
      const before = await databaseMicros()
      const result = await store.acquire(request(key, { ttlMs: 60_000 }))
      const after = await databaseMicros()
      expect(result.granted && result.fencingToken >= before && result.fencingToken <= after).toBe(true)
      const [holder] = await store.holders(key)
      expect(holder?.expiresInMs).toBeGreaterThan(55_000)
      expect(holder?.expiresInMs).toBeLessThanOrEqual(60_000)
    } finally {
      fast.mockRestore()
    }
  })

  test('creates its table on first use, under the configured name', async () => {
    const table = uniqueTable('create')
    const pool = appPool()
    const store = openStore({ table }, pool)
    const exists = async () => (await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table])).rows[0]?.t
    expect(await exists()).toBeNull()
    expect((await store.acquire(request(uniqueKey()))).granted).toBe(true)
    expect(await exists()).toBe(table)
    expect(store.ddl).toContain(`CREATE TABLE IF NOT EXISTS "${table}"`)
  })

  test('stores racing to create the same table all succeed (as app processes starting together)', async () => {
    // The loser of concurrent CREATE TABLE IF NOT EXISTS can fail on the catalog's unique index,
    // on the table, or on its row type ("type … already exists", 42710); the store must take any
    // of these as "created". Four stores on each of eight fresh tables make the race likely.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => uniqueTable('race')).flatMap((table) =>
        Array.from({ length: 4 }, () =>
          openStore({ table })
            .acquire(request(uniqueKey()))
            .then(
              (result) => (result.granted ? 'granted' : 'refused'),
              (error: unknown) => `${(error as { code?: string }).code}: ${(error as Error).message}`,
            ),
        ),
      ),
    )
    expect(outcomes.filter((outcome) => outcome !== 'granted')).toEqual([])
  })

  test('with createTable: false a missing table fails as a LockError with the database’s error as cause', async () => {
    const locks = createLockManager({ store: openStore({ table: uniqueTable('missing'), createTable: false }) })
    const error = await locks.acquire('x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect(((error as LockError).cause as { code?: string }).code).toBe('42P01')
  })

  test('refuses bad table names and options before touching the database', () => {
    const pool = appPool()
    for (const table of ['', 'a b', 'x;drop table y', '"quoted"', 'a.b.c', '1abc', 'x'.repeat(64)]) {
      expect(() => new PostgresStore(pool, { table })).toThrow(InvalidLockArgumentError)
    }
    expect(() => new PostgresStore(pool, { queryTimeoutMs: -1 })).toThrow(/options\.queryTimeoutMs/)
    expect(() => new PostgresStore(pool, { listen: 'yes' as never })).toThrow(/options\.listen/)
    expect(() => new PostgresStore(pool, { tabel: 'x' } as never)).toThrow(/tabel/)
    expect(() => new PostgresStore({} as never)).toThrow(/pool/)
  })

  test('the row outlives the lock (the fencing counter); sweeping removes idle rows and tokens still grow', async () => {
    const table = uniqueTable('sweep')
    const pool = appPool()
    const store = openStore({ table, retainIdleMs: 0, sweepIntervalMs: 0 }, pool)
    const key = uniqueKey('sweep')
    const a = request(key)
    const first = await store.acquire(a)
    expect(await store.release(key, a.owner)).toBe(true)
    expect((await pool.query(`SELECT 1 FROM "${table}"`)).rowCount).toBe(1)
    expect(await store.sweep()).toBe(1)
    expect((await pool.query(`SELECT 1 FROM "${table}"`)).rowCount).toBe(0)
    const second = await store.acquire(request(key))
    expect(first.granted && second.granted && second.fencingToken > first.fencingToken).toBe(true)
    // A held lock is never swept.
    expect(await store.sweep()).toBe(0)
    expect((await store.holders(key)).length).toBe(1)
  })

  test('a NOTIFY reaches a waiting store of another pool when the lock is released', async () => {
    const holderStore = openStore()
    const waiterStore = openStore()
    const key = uniqueKey('notify')
    const a = request(key)
    await holderStore.acquire(a)
    let wakes = 0
    const unsubscribe = waiterStore.onRelease!(key, () => wakes++)
    try {
      await vi.waitUntil(() => wakes >= 1 && waiterStore.listening, { timeout: 5000 })
      const before = wakes
      await holderStore.release(key, a.owner)
      await vi.waitUntil(() => wakes > before, { timeout: 5000 })
    } finally {
      unsubscribe()
    }
  })

  test('an unreachable server fails promptly as a LockError with the connection error as cause', async () => {
    const locks = createLockManager({ store: 'postgres://postgres@127.0.0.1:1/nowhere' })
    try {
      const error = await locks.acquire('x').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect(((error as LockError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    } finally {
      await locks.close()
    }
  })

  test('owners and keys are data: quotes and JSON-looking owner tokens change nothing else', async () => {
    const store = openStore()
    const key = uniqueKey(`'; DROP TABLE x; --`)
    const odd = `${owner()}"}'\\`
    const s1 = await store.acquire(request(key, { owner: odd, mode: 'shared' }))
    const s2 = await store.acquire(request(key, { mode: 'shared' }))
    expect(s1.granted && s2.granted).toBe(true)
    expect((await store.holders(key)).map((h) => h.owner)).toContain(odd)
    expect(await store.extend(key, odd, 10_000)).toBe(true)
    expect(await store.release(key, odd)).toBe(true)
    expect((await store.holders(key)).length).toBe(1)
  })

  test('behind a pooler that loses prepared statements (PgBouncer transaction mode) it falls back to unnamed statements', async () => {
    const pool = appPool()
    let named = 0
    // What such a pooler answers: the connection the statement landed on never saw its Parse.
    const pooler = {
      query: (config: string | { name: string; text: string; values?: unknown[] }, values?: unknown[]) => {
        if (typeof config === 'string') return pool.query(config, values)
        named++
        return Promise.reject(Object.assign(new Error(`prepared statement "${config.name}" does not exist`), { code: '26000' }))
      },
    }
    const store = openStore({ listen: false }, pooler as never)
    const r = request(uniqueKey('pooler'))
    expect((await store.acquire(r)).granted).toBe(true)
    expect(await store.release(r.key, r.owner)).toBe(true)
    expect(named).toBe(1)
  })

  test('adds the waiters column to a table made before it, keeping its locks', async () => {
    const table = uniqueTable('older')
    const pool = appPool()
    // The table as versions before LockStore.waiters made it, with a lock held in it.
    await pool.query(`CREATE TABLE ${table} (key text PRIMARY KEY, owner text, expires_at bigint NOT NULL,
      shared jsonb NOT NULL DEFAULT '{}', queue jsonb NOT NULL DEFAULT '[]', fence bigint NOT NULL, listened_until bigint NOT NULL DEFAULT 0)`)
    const key = uniqueKey('older')
    await pool.query(`INSERT INTO ${table} (key, owner, expires_at, fence) VALUES ($1, 'c0:held', 9007199254740000, 1)`, [key])
    const store = openStore({ table }, pool)
    expect((await store.acquire(request(key, { clientId: 'b' }))).granted).toBe(false)
    expect(await store.waiters(key)).toEqual([{ clientId: 'b', mode: 'exclusive' }])
    expect((await store.holders(key)).map((holder) => holder.owner)).toEqual(['c0:held'])
  })
})
