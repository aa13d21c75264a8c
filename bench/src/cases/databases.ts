import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLockManager, type LockStore } from '@cachelock/core'
import { PostgresStore } from '@cachelock/core/postgres'
import { MysqlStore } from '@cachelock/core/mysql'
import { SqliteStore } from '@cachelock/core/sqlite'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { BenchCase, BenchContext } from '../context.js'
import { targetResult } from '../results.js'
import { interleave, latencyContender } from '../runner/interleave.js'
import { ratio, rowsOf } from './rows.js'

/** One database: its floor (one bare statement on the same connection pool) and a store on that pool. */
interface Subject {
  name: string
  floorLabel: string
  floor: () => Promise<unknown>
  /** One bare single-row write on the same pool, for scale: what any statement that changes a row costs. */
  write?: { label: string; run: () => Promise<unknown> }
  store: LockStore
  version: string
  close: () => Promise<void>
}

/**
 * Uncontended acquire + release on a database store against one bare round trip on the same pool
 * (`SELECT 1`) and one bare single-row write (an autocommitted upsert; for SQLite, which runs in
 * process, one write transaction: `BEGIN IMMEDIATE`, an upsert, `COMMIT`). A lock writes twice, the
 * grant and the release, each one statement (SQLite: one write transaction) when uncontended: its
 * floor is two row writes, and the target ≤ 2.5 of them.
 */
function databaseCase(id: string, title: string, needs: BenchCase['needs'], open: (context: BenchContext) => Promise<Subject>): BenchCase {
  return {
    id,
    title,
    needs,
    async run(context) {
      const { settings, namespace, progress } = context
      const subject = await open(context)
      const locks = createLockManager({ store: subject.store, prefix: `${namespace}:` })
      const noop = () => undefined
      let n = 0
      try {
        const contenders = [
          latencyContender('floor', subject.floorLabel, subject.floor, settings),
          ...(subject.write ? [latencyContender('write', subject.write.label, subject.write.run, settings)] : []),
          latencyContender('cachelock', `cachelock withLock (${subject.name})`, () => locks.withLock('one', noop), settings),
          latencyContender(
            'store',
            `${subject.name} store alone (acquire + release)`,
            async () => {
              const owner = `bench:${(n++).toString(16).padStart(32, '0')}`
              const key = `${namespace}:store`
              await subject.store.acquire({ key, owner, mode: 'exclusive', ttlMs: 30_000, clientId: 'bench', waiting: false, pollMs: 100 })
              await subject.store.release(key, owner)
            },
            settings,
          ),
        ]
        const samples = await interleave(contenders, {
          rounds: settings.rounds,
          onSample: (round, c) => progress.update(`${id}: round ${round + 1}/${settings.rounds} ${c.label}`),
        })
        const rows = rowsOf(contenders, samples, 'µs/op')
        for (const row of rows) {
          row.extra = { 'vs floor': ratio(samples, row.id, 'floor').median }
          if (subject.write) row.extra['vs one write'] = ratio(samples, row.id, 'write').median
        }
        // A lock writes twice (the grant, the release): its floor is two row writes, not two reads.
        const floorId = subject.write ? 'write' : 'floor'
        const floorLabel = subject.write?.label ?? subject.floorLabel
        return {
          rows,
          targets: [
            targetResult({
              target: '≤ 2.5 × one row write',
              measure: `cachelock withLock ÷ ${floorLabel}, time per operation, paired by round`,
              unit: '× write',
              summary: ratio(samples, 'cachelock', floorId),
              comparison: '<=',
              limit: 2.5,
            }),
          ],
          notes: [
            `${subject.name} ${subject.version}; the store and the floor on the same ${subject.name === 'SQLite' ? 'connection' : 'pool'}; ` +
              `sequential operations in batches of ~${settings.batchMs} ms, ${settings.rounds} interleaved rounds.`,
            'withLock = acquire (1 statement) + release (1 statement), plus the manager (queue, lease with its renewal timer, owner token).',
          ],
        }
      } finally {
        await locks.close()
        await subject.close()
      }
    },
  }
}

export const postgresStore = databaseCase(
  'postgres-store',
  'Uncontended acquire + release, PostgreSQL',
  ['postgres'],
  async ({ urls, machine }) => {
    const pool = new pg.Pool({ connectionString: urls.postgres, max: 2 })
    const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown'
    machine.postgres ??= version
    await pool.query('CREATE TABLE IF NOT EXISTS cachelock_bench_floor (id int PRIMARY KEY, n bigint NOT NULL)')
    return {
      name: 'PostgreSQL',
      floorLabel: 'one round trip (SELECT 1)',
      floor: () => pool.query('SELECT 1'),
      write: {
        label: 'one single-row upsert (autocommit)',
        run: () => pool.query('INSERT INTO cachelock_bench_floor AS f (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = f.n + 1'),
      },
      store: new PostgresStore(pool, { table: 'cachelock_bench_locks' }),
      version,
      close: () => pool.end(),
    }
  },
)

export const mariadbStore = databaseCase(
  'mariadb-store',
  'Uncontended acquire + release, MariaDB',
  ['mariadb'],
  async ({ urls, machine }) => {
    const pool = mysql.createPool({ uri: urls.mariadb, connectionLimit: 2 })
    const [rows] = await pool.query('SELECT VERSION() AS v')
    const version = String((rows as { v: string }[])[0]?.v ?? 'unknown')
    machine.mariadb = version
    await pool.query('CREATE TABLE IF NOT EXISTS cachelock_bench_floor (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB')
    return {
      name: 'MariaDB',
      floorLabel: 'one round trip (SELECT 1)',
      floor: () => pool.query('SELECT 1'),
      write: {
        label: 'one single-row upsert (autocommit)',
        run: () => pool.query('INSERT INTO cachelock_bench_floor (id, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1'),
      },
      store: new MysqlStore(pool, { table: 'cachelock_bench_locks' }),
      version,
      close: () => pool.end(),
    }
  },
)

export const sqliteStore = databaseCase('sqlite-store', 'Uncontended acquire + release, SQLite', [], async ({ machine }) => {
  const dir = mkdtempSync(join(tmpdir(), 'cachelock-bench-sqlite-'))
  const database = new Database(join(dir, 'locks.db'))
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.exec('CREATE TABLE floor (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)')
  const begin = database.prepare('BEGIN IMMEDIATE')
  const upsert = database.prepare('INSERT INTO floor (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1')
  const commit = database.prepare('COMMIT')
  const version = String((database.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v)
  machine.sqlite = version
  return {
    name: 'SQLite',
    floorLabel: 'one write transaction (BEGIN IMMEDIATE, upsert, COMMIT)',
    floor: () => {
      begin.run()
      upsert.run()
      commit.run()
      return Promise.resolve()
    },
    store: new SqliteStore(database),
    version: `${version}, WAL, synchronous=NORMAL`,
    close: () => {
      database.close()
      rmSync(dir, { recursive: true, force: true })
      return Promise.resolve()
    },
  }
})
