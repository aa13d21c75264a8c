import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { LockManager } from '@cachelock/core'
import { installModelLocks } from '@cachelock/typeorm'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { defineEntities, type Entities } from './entities.js'
import { loadOrm } from './orm.js'
import type { DatabaseKind } from './env.js'

// As env.ts has it (which imports vitest: workers cannot load it).
const PG_URL = process.env.CACHELOCK_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5439/cachelock_test'

/**
 * Databases that several OS processes share (the reliability suite's workers): the parent makes
 * one with `createDatabase` and passes its `location` (a SQLite file, or a PostgreSQL schema) to
 * the workers, which `attachDataSource` to it. The test entities, TypeORM 1.x.
 */
export async function createDatabase(kind: DatabaseKind): Promise<{ location: string; drop(): Promise<void> }> {
  let location: string
  let drop: () => Promise<void>
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cachelock-typeorm-shared-'))
    location = join(dir, 'test.db')
    drop = async () => rmSync(dir, { recursive: true, force: true })
  } else {
    location = `typeorm_${randomUUID().replaceAll('-', '')}`
    await adminQuery(`CREATE SCHEMA "${location}"`)
    drop = () => adminQuery(`DROP SCHEMA IF EXISTS "${location}" CASCADE`)
  }
  const { dataSource } = await attachDataSource(kind, location, undefined, true)
  await dataSource.destroy()
  return { location, drop }
}

/** A data source on a database `createDatabase` made, with the subscriber installed on `locks`. */
export async function attachDataSource(
  kind: DatabaseKind,
  location: string,
  locks: LockManager | undefined,
  synchronize = false,
): Promise<{ dataSource: DataSource; entities: Entities }> {
  const orm = await loadOrm('1.x')
  const entities = defineEntities(orm)
  const common = { entities: Object.values(entities), synchronize }
  const options: DataSourceOptions =
    kind === 'sqlite'
      ? { type: 'better-sqlite3', database: location, enableWAL: true, ...common }
      : { type: 'postgres', url: PG_URL, schema: location, ...common }
  const dataSource = new orm.DataSource(options)
  if (locks) installModelLocks(dataSource, { locks })
  await dataSource.initialize()
  return { dataSource, entities }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(sql).finally(() => client.end())
}
