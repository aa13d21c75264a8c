import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { createLockManager, MemoryStore, type LockManager, type LockStore } from '@cachelock/core'
import { installModelLocks, lockableRepository, type InstallModelLocksOptions } from '@cachelock/typeorm'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { defineEntities, type Entities } from './entities.js'
import { loadOrm, type Orm } from './orm.js'
import { postgresWriter, sqliteWriter, type OtherWriter } from './other-writer.js'

export type DatabaseKind = 'sqlite' | 'postgres'
export type StoreKind = 'memory' | 'redis'

export interface EnvConfig {
  line: '1.x' | '0.3'
  db: DatabaseKind
  store: StoreKind
}

/** An entity class. */
export type EntityClass = new () => object

/** One "process": a data source with the subscriber installed, and its own lock manager. */
export interface Process {
  dataSource: DataSource
  locks: LockManager
  repos: ReturnType<typeof reposOf>
}

/** Everything a suite needs; filled in by `beforeAll`. */
export interface Env extends Process {
  config: EnvConfig
  orm: Orm
  entities: Entities
  /** The lock store every process of this file shares (as processes share a Redis). */
  store: LockStore
  /** Another process on the same database and store: its own data source (connection) and manager. */
  process(options?: Omit<InstallModelLocksOptions, 'locks'>): Promise<Process>
  /** A data source on the same database, not yet initialized, with the given entities. */
  dataSourceFor(entities: EntityClass[], extra?: Partial<DataSourceOptions>): DataSource
  /** A fresh lock manager on the shared store. */
  manager(): LockManager
  /** A writer with its own connection to the database, as another process has (the caller closes it). */
  otherWriter(): OtherWriter
}

export const PG_URL = process.env.CACHELOCK_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5439/cachelock_test'
export const REDIS_URL = process.env.CACHELOCK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6391'

export function reposOf(dataSource: DataSource, entities: Entities) {
  return {
    products: dataSource.getRepository(entities.Product).extend(lockableRepository),
    fenced: dataSource.getRepository(entities.FencedProduct).extend(lockableRepository),
    orders: dataSource.getRepository(entities.Order).extend(lockableRepository),
    unguarded: dataSource.getRepository(entities.Unguarded).extend(lockableRepository),
    accounts: dataSource.getRepository(entities.Account).extend(lockableRepository),
    items: dataSource.getRepository(entities.Item).extend(lockableRepository),
    counters: dataSource.getRepository(entities.Counter).extend(lockableRepository),
  }
}

/**
 * Register `beforeAll`/`afterAll` for one test file: a database (a temporary SQLite file, or a
 * PostgreSQL schema of its own), a store, entities on the TypeORM line under test, and a first
 * process. Returns an object whose fields are set once `beforeAll` has run.
 */
export function useEnv(config: EnvConfig): Env {
  const env = { config } as Env
  const cleanups: (() => unknown)[] = []
  let options: (entities: EntityClass[]) => DataSourceOptions
  let writer: () => OtherWriter

  beforeAll(async () => {
    env.orm = await loadOrm(config.line)
    env.entities = defineEntities(env.orm)
    ;({ options, writer } = await database(config.db, cleanups))
    env.otherWriter = () => writer()
    env.store = await store(config.store, cleanups)
    const prefix = `typeorm-test:${randomUUID()}:`
    env.manager = () => createLockManager({ store: env.store, prefix, sleep: 20 })
    env.dataSourceFor = (entities, extra) => new env.orm.DataSource({ ...options(entities), ...extra } as DataSourceOptions)
    env.process = async (installOptions) => {
      const dataSource = env.dataSourceFor(Object.values(env.entities))
      const locks = env.manager()
      installModelLocks(dataSource, { ...installOptions, locks })
      await dataSource.initialize()
      cleanups.unshift(() => dataSource.isInitialized && dataSource.destroy())
      return { dataSource, locks, repos: reposOf(dataSource, env.entities) }
    }
    Object.assign(env, await env.process())
  })

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup()
  })

  return env
}

async function database(
  kind: DatabaseKind,
  cleanups: (() => unknown)[],
): Promise<{ options: (entities: EntityClass[]) => DataSourceOptions; writer: () => OtherWriter }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cachelock-typeorm-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const database = join(dir, 'test.db')
    // WAL: several data sources on one file behave like several processes on one database.
    return {
      options: (entities) => ({ type: 'better-sqlite3', database, entities, synchronize: true, enableWAL: true }),
      writer: () => sqliteWriter(database),
    }
  }
  const schema = `typeorm_${randomUUID().replaceAll('-', '')}`
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(`CREATE SCHEMA "${schema}"`)
  await client.end()
  cleanups.push(async () => {
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
    await admin.end()
  })
  return {
    options: (entities) => ({ type: 'postgres', url: PG_URL, schema, entities, synchronize: true }),
    writer: () => postgresWriter(PG_URL, schema),
  }
}

async function store(kind: StoreKind, cleanups: (() => unknown)[]): Promise<LockStore> {
  if (kind === 'memory') return new MemoryStore()
  const { redisStoreFromUrl } = await import('@cachelock/core/redis')
  const redis = redisStoreFromUrl(new URL(REDIS_URL))
  cleanups.push(() => redis.close?.())
  return redis
}
