import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteStore } from '../../../src/stores/sqlite/sqlite-store.js'
import type { SqliteStoreOptions } from '../../../src/stores/sqlite/options.js'

const dirs: string[] = []
const databases: Database.Database[] = []
const stores: SqliteStore[] = []

/** A path in a fresh temporary directory, removed by `closeAll()`. */
export function tempPath(name = 'locks.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'cachelock-sqlite-'))
  dirs.push(dir)
  return join(dir, name)
}

/** A connection of the app's own to `path`, closed by `closeAll()`. */
export function connect(path: string, options: Database.Options = {}): Database.Database {
  const database = new Database(path, options)
  databases.push(database)
  return database
}

export function openStore(path = tempPath(), options: SqliteStoreOptions = {}): SqliteStore {
  const store = new SqliteStore(connect(path), options)
  stores.push(store)
  return store
}

export async function closeAll(): Promise<void> {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  for (const database of databases.splice(0)) if (database.open) database.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}
