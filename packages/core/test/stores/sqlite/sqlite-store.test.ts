import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, test } from 'vitest'
import { createLockManager } from '../../../src/lock-manager.js'
import { InvalidLockArgumentError, LockError } from '../../../src/errors.js'
import { SqliteStore } from '../../../src/stores/sqlite/sqlite-store.js'
import type { AcquireRequest } from '../../../src/store.js'
import { closeAll, connect, openStore, tempPath } from './helpers.js'

afterAll(closeAll)

const request = (key: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest => ({
  key,
  owner: `${overrides.clientId ?? 'c0'}:${randomBytes(16).toString('hex')}`,
  mode: 'exclusive',
  ttlMs: 30_000,
  clientId: 'c0',
  waiting: false,
  pollMs: 100,
  ...overrides,
})

describe('SqliteStore', () => {
  test('two connections to one file (two processes) exclude each other', async () => {
    const path = tempPath()
    const [a, b] = [openStore(path), openStore(path)]
    const first = request('k', { clientId: 'a' })
    expect((await a.acquire(first)).granted).toBe(true)
    expect((await b.acquire(request('k', { clientId: 'b' }))).granted).toBe(false)
    expect((await b.holders('k')).map((h) => h.owner)).toEqual([first.owner])
    // Another owner: the last hex digit changed (replacing it with a fixed digit leaves one token in 16 unchanged).
    const other = first.owner.slice(0, -1) + (first.owner.endsWith('0') ? '1' : '0')
    expect(await b.release('k', other)).toBe(false)
    expect(await a.release('k', first.owner)).toBe(true)
    expect((await b.acquire(request('k', { clientId: 'b' }))).granted).toBe(true)
  })

  test('switches the file to WAL and creates its table, under the configured name', async () => {
    const path = tempPath()
    const store = openStore(path, { table: 'app_locks' })
    await store.acquire(request('x'))
    const database = connect(path)
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(database.prepare(`SELECT count(*) AS n FROM app_locks`).get()).toEqual({ n: 1 })
  })

  test('refuses to run inside a transaction the app left open on its connection', async () => {
    const database = connect(tempPath())
    const locks = createLockManager({ store: new SqliteStore(database) })
    await locks.withLock('before', () => undefined)
    database.exec('BEGIN')
    try {
      const error = await locks.acquire('x').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect(String((error as LockError).cause)).toMatch(/transaction is open/)
    } finally {
      database.exec('ROLLBACK')
    }
    expect(database.prepare(`SELECT count(*) AS n FROM cachelock_locks`).get()).toEqual({ n: 1 })
  })

  test('a file another process holds the write lock of fails with SQLITE_BUSY after the busy timeout', async () => {
    const path = tempPath()
    const store = new SqliteStore(connect(path, { timeout: 50 }))
    await store.acquire(request('busy'))
    const other = connect(path)
    other.exec('BEGIN IMMEDIATE')
    try {
      const locks = createLockManager({ store })
      const error = await locks.acquire('busy-2').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect(((error as LockError).cause as { code?: string }).code).toBe('SQLITE_BUSY')
    } finally {
      other.exec('ROLLBACK')
    }
  })

  test('refuses bad options and a non-database', () => {
    const database = connect(tempPath())
    expect(() => new SqliteStore(database, { table: 'a b' })).toThrow(InvalidLockArgumentError)
    expect(() => new SqliteStore(database, { wal: 'yes' as never })).toThrow(/options\.wal/)
    expect(() => new SqliteStore('locks.db' as never)).toThrow(/database/)
  })

  test('sweeping removes idle rows; tokens still grow', async () => {
    const store = openStore(tempPath(), { retainIdleMs: 0, sweepIntervalMs: 0 })
    const a = request('s')
    const first = await store.acquire(a)
    await store.release('s', a.owner)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await store.sweep()).toBe(1)
    const second = await store.acquire(request('s'))
    expect(first.granted && second.granted && second.fencingToken > first.fencingToken).toBe(true)
    expect(await store.sweep()).toBe(0)
  })
  test('adds the waiters column to a table made before it', async () => {
    const path = tempPath()
    const app = connect(path)
    // The table as versions before LockStore.waiters made it.
    app.exec(`CREATE TABLE cachelock_locks (key BLOB PRIMARY KEY, owner TEXT, expires_at INTEGER NOT NULL,
      shared TEXT NOT NULL DEFAULT '{}', queue TEXT NOT NULL DEFAULT '[]', fence INTEGER NOT NULL) WITHOUT ROWID`)
    const store = openStore(path)
    const held = request('old', { clientId: 'a' })
    expect((await store.acquire(held)).granted).toBe(true)
    expect((await store.acquire(request('old', { clientId: 'b' }))).granted).toBe(false)
    expect(await store.waiters('old')).toEqual([{ clientId: 'b', mode: 'exclusive' }])
    // A second store on the upgraded table finds the column there.
    expect(await openStore(path).waiters('old')).toEqual([{ clientId: 'b', mode: 'exclusive' }])
  })
})
