import { afterAll, describe, expect, test } from 'vitest'
import { createStore } from '../../src/create-store.js'
import { InvalidLockArgumentError } from '../../src/errors.js'
import type { LazyStore } from '../../src/lazy-store.js'
import type { LockStore } from '../../src/store.js'
import { MysqlStore } from '../../src/stores/mysql/mysql-store.js'
import { postgresStoreFromUrl } from '../../src/stores/postgres/from-url.js'
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js'
import { sqliteStoreFromUrl } from '../../src/stores/sqlite/from-url.js'
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js'
import { MYSQL_URL } from './mysql/helpers.js'
import { PG_URL } from './postgres/helpers.js'
import { closeAll, tempPath } from './sqlite/helpers.js'

const stores: LockStore[] = []
afterAll(async () => {
  for (const store of stores) await store.close?.()
  await closeAll()
})

const request = {
  owner: 'c0:00112233445566778899aabbccddeeff',
  mode: 'exclusive' as const,
  ttlMs: 5000,
  clientId: 'c0',
  waiting: false,
  pollMs: 100,
}

describe('createStore with database URLs', () => {
  test.each([
    ['postgres://', () => PG_URL.replace(/^postgresql:/, 'postgres:'), PostgresStore],
    ['postgresql://', () => PG_URL, PostgresStore],
    ['mysql://', () => MYSQL_URL, MysqlStore],
    ['sqlite:///absolute/path', () => `sqlite://${tempPath('from url.db').replaceAll(' ', '%20')}`, SqliteStore],
  ])('%s makes a working store that owns its connection', async (_label, url, kind) => {
    const store = createStore(url())
    stores.push(store)
    // The store's module loads at the first operation (or load()).
    expect((store as LazyStore).loaded).toBeUndefined()
    expect(await (store as LazyStore).load()).toBeInstanceOf(kind)
    const key = `from-url:${Math.random()}`
    expect((await store.acquire({ ...request, key })).granted).toBe(true)
    expect(await store.release(key, request.owner)).toBe(true)
    await store.close?.()
  })

  test.each([
    'postgres:/localhost/db',
    'postgres://host/db/extra',
    'mysql://host/db/extra',
    'sqlite://relative.db',
    'sqlite:relative.db',
    'sqlite:///',
    'sqlite:///dir/',
    'sqlite:///%E0%A4%A',
  ])('%s is refused with InvalidLockArgumentError naming the url', (url) => {
    expect(() => createStore(url)).toThrow(InvalidLockArgumentError)
    expect(() => createStore(url)).toThrow(/`url`/)
  })

  test('unknown options are refused before a connection is made', () => {
    expect(() => postgresStoreFromUrl(PG_URL, { tabel: 'x' } as never)).toThrow(/tabel/)
    expect(() => sqliteStoreFromUrl(`sqlite://${tempPath()}`, { busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/)
  })
})
