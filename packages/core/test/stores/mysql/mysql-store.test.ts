import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, test, vi } from 'vitest'
import mysqlCallbacks from 'mysql2'
import { createLockManager } from '../../../src/index.js'
import { InvalidLockArgumentError, LockError } from '../../../src/errors.js'
import { MysqlStore } from '../../../src/stores/mysql/mysql-store.js'
import type { AcquireRequest } from '../../../src/store.js'
import { appPool, closeAll, MYSQL_URL, openStore, uniqueKey, uniqueTable } from './helpers.js'

afterAll(closeAll)

const owner = () => `c0:${randomBytes(16).toString('hex')}`
const request = (key: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest => ({
  key,
  owner: owner(),
  mode: 'exclusive',
  ttlMs: 30_000,
  clientId: 'c0',
  waiting: false,
  pollMs: 100,
  ...overrides,
})

async function databaseMicros(): Promise<number> {
  const [rows] = await appPool().query(`SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(6)) AS us`)
  return Number((rows as { us: number }[])[0]!.us)
}

describe('MysqlStore (MariaDB)', () => {
  test('expiry and fencing tokens come from the database clock, not the app server’s', async () => {
    const store = openStore()
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

  test('the session time zone changes nothing (the clock is UTC_TIMESTAMP)', async () => {
    const pool = appPool({ connectionLimit: 1, timezone: 'Z' })
    await pool.query(`SET time_zone = '+09:00'`)
    const store = openStore({}, pool)
    const key = uniqueKey('tz')
    const before = await databaseMicros()
    const result = await store.acquire(request(key))
    expect(result.granted && Math.abs(result.fencingToken - before) < 60_000_000).toBe(true)
  })

  test('creates its table on first use, under the configured name', async () => {
    const table = uniqueTable('create')
    const pool = appPool()
    const store = openStore({ table }, pool)
    const exists = async () => ((await pool.query(`SHOW TABLES LIKE ?`, [table]))[0] as unknown[]).length
    expect(await exists()).toBe(0)
    expect((await store.acquire(request(uniqueKey()))).granted).toBe(true)
    expect(await exists()).toBe(1)
    expect(store.ddl).toContain(`CREATE TABLE IF NOT EXISTS \`${table}\``)
  })

  test('with createTable: false a missing table fails as a LockError with the database’s error as cause', async () => {
    const locks = createLockManager({ store: openStore({ table: uniqueTable('missing'), createTable: false }) })
    const error = await locks.acquire('x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockError)
    expect(((error as LockError).cause as { code?: string }).code).toBe('ER_NO_SUCH_TABLE')
  })

  test('refuses bad table names and options before touching the database', () => {
    const pool = appPool()
    for (const table of ['', 'a b', 'x`; drop table y', 'a.b.c', '1abc'])
      expect(() => new MysqlStore(pool, { table })).toThrow(InvalidLockArgumentError)
    expect(() => new MysqlStore(pool, { sweepIntervalMs: -1 })).toThrow(/options\.sweepIntervalMs/)
    expect(() => new MysqlStore(pool, { listen: true } as never)).toThrow(/listen/)
  })

  test('takes a callback-style mysql2 pool as well', async () => {
    const pool = mysqlCallbacks.createPool({ uri: MYSQL_URL, connectionLimit: 2 })
    try {
      const store = new MysqlStore(pool)
      const r = request(uniqueKey('callback'))
      expect((await store.acquire(r)).granted).toBe(true)
      expect(await store.release(r.key, r.owner)).toBe(true)
    } finally {
      await pool.promise().end()
    }
  })

  test('the row outlives the lock (the fencing counter); sweeping removes idle rows and tokens still grow', async () => {
    const table = uniqueTable('sweep')
    const pool = appPool()
    const store = openStore({ table, retainIdleMs: 0, sweepIntervalMs: 0 }, pool)
    const key = uniqueKey('sweep')
    const a = request(key)
    const first = await store.acquire(a)
    expect(await store.release(key, a.owner)).toBe(true)
    // `expires_at` of a released row is the release time: wait until it is in the past by the database's clock.
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await store.sweep()).toBe(1)
    const second = await store.acquire(request(key))
    expect(first.granted && second.granted && second.fencingToken > first.fencingToken).toBe(true)
    expect(await store.sweep()).toBe(0)
    expect((await store.holders(key)).length).toBe(1)
  })

  test('owners and keys are data: quotes and JSON-looking owner tokens change nothing else', async () => {
    const store = openStore()
    const key = uniqueKey(`'; DROP TABLE x; --`)
    const odd = `${owner()}"]'\\`
    const s1 = await store.acquire(request(key, { owner: odd, mode: 'shared' }))
    const s2 = await store.acquire(request(key, { mode: 'shared' }))
    expect(s1.granted && s2.granted).toBe(true)
    expect((await store.holders(key)).map((h) => h.owner)).toContain(odd)
    expect(await store.extend(key, odd, 10_000)).toBe(true)
    expect(await store.release(key, odd)).toBe(true)
    expect((await store.holders(key)).length).toBe(1)
  })

  test('an unreachable server fails promptly as a LockError with the connection error as cause', async () => {
    const locks = createLockManager({ store: 'mysql://root@127.0.0.1:1/nowhere' })
    try {
      const error = await locks.acquire('x').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect(((error as LockError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    } finally {
      await locks.close()
    }
  })

  test('adds the waiters column to a table made before it, keeping its locks', async () => {
    const table = uniqueTable('older')
    const pool = appPool()
    // The table as versions before LockStore.waiters made it, with a lock held in it.
    await pool.query(`CREATE TABLE ${table} (\`key\` VARBINARY(512) NOT NULL PRIMARY KEY, owner VARBINARY(255) NULL,
      expires_at BIGINT NOT NULL, shared JSON NOT NULL, queue JSON NOT NULL, fence BIGINT NOT NULL) ENGINE=InnoDB`)
    const key = uniqueKey('older')
    await pool.query(`INSERT INTO ${table} VALUES (?, 'c0:held', 9007199254740000, JSON_ARRAY(), JSON_ARRAY(), 1)`, [key])
    const store = openStore({ table }, pool)
    expect((await store.acquire(request(key, { clientId: 'b' }))).granted).toBe(false)
    expect(await store.waiters(key)).toEqual([{ clientId: 'b', mode: 'exclusive' }])
    expect((await store.holders(key)).map((holder) => holder.owner)).toEqual(['c0:held'])
  })
})
