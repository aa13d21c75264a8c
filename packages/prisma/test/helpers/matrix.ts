import { afterAll, beforeAll, beforeEach, describe } from 'vitest'
import type { LockManager, LockStore } from '@cachelock/core'
import { lockExtension, type LockExtensionOptions } from '@cachelock/prisma'
import { databaseKinds, openDatabase, type DatabaseKind, type TestClient, type TestDatabase } from './databases.js'
import type { OtherWriter } from './other-writer.js'
import { makeStore, managerOn, storeKinds, type StoreKind } from './stores.js'

/** The extension as most tests configure it: Product locked by sku, Order fenced. */
export function extend(prisma: TestClient, locks: LockManager, options: Omit<LockExtensionOptions, 'locks' | 'models'> = {}) {
  return prisma.$extends(lockExtension({ ...options, locks, models: { Product: { by: 'sku' }, Order: { fence: 'lockFence' } } }))
}

/** The extension without any fence column, for the "without the fence" cases. */
export function extendUnfenced(prisma: TestClient, locks: LockManager) {
  return prisma.$extends(lockExtension({ locks, models: { Product: { by: 'sku' } } }))
}

export type Extended = ReturnType<typeof extend>

export interface Setup {
  readonly database: DatabaseKind
  readonly storeKind: StoreKind
  readonly store: LockStore
  readonly prisma: TestClient
  /** The database as opened: another client on it (`connect()`), its PostgreSQL schema. */
  readonly opened: TestDatabase
  /** A writer with its own connection, as another process has (the caller closes it). */
  readonly otherWriter: () => OtherWriter
  /** A fresh manager (own prefix) for each test. */
  readonly locks: LockManager
  /** `prisma` extended with `locks`. */
  readonly db: Extended
}

/**
 * Run `body`'s tests on every database × store: SQLite and PostgreSQL, the memory store and Redis.
 * Each test starts with empty tables and a manager of its own.
 */
export function onEveryDatabaseAndStore(
  label: string,
  body: (setup: () => Setup) => void,
  only?: { databases?: DatabaseKind[]; stores?: StoreKind[] },
): void {
  const combos = (only?.databases ?? databaseKinds).flatMap((database) =>
    (only?.stores ?? storeKinds).map((storeKind) => [database, storeKind] as const),
  )
  describe.each(combos)('%s, %s store', (database, storeKind) => {
    let opened: TestDatabase
    let store: LockStore
    let current: Setup
    beforeAll(async () => {
      opened = await openDatabase(database, `${label}_${storeKind}`)
      store = await makeStore(storeKind)
    })
    afterAll(async () => {
      await opened?.close()
      await store?.close?.()
    })
    beforeEach(async () => {
      await opened.reset()
      const locks = managerOn(store)
      current = {
        database,
        storeKind,
        store,
        prisma: opened.prisma,
        opened,
        otherWriter: () => opened.otherWriter(),
        locks,
        db: extend(opened.prisma, locks),
      }
    })
    body(() => current)
  })
}
