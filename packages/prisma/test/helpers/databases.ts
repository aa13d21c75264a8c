import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { postgresWriter, sqliteWriter, type OtherWriter } from './other-writer.js'
import { PrismaClient } from '../generated/sqlite/client/client.js'
import { PrismaClient as PostgresClient } from '../generated/postgresql/client/client.js'

/**
 * The test databases: SQLite in a temporary file, PostgreSQL in a schema of its own on the test
 * server (`scripts/services.sh start postgres`), so test files running in parallel never meet.
 * Tables come from the shipped SQL files in test/prisma/.
 */
export type DatabaseKind = 'sqlite' | 'postgresql'
export const databaseKinds: DatabaseKind[] = ['sqlite', 'postgresql']

export const PG_URL = process.env['CACHELOCK_TEST_PG_URL'] ?? 'postgresql://postgres@127.0.0.1:5439/cachelock_test'

/** Both generated clients have the same API; the tests use the SQLite client's type for both. */
export type TestClient = PrismaClient

export interface ConnectOptions {
  connections?: number
  /** PostgreSQL: the `application_name` its connections report (in `pg_stat_activity`). */
  applicationName?: string
  onQuery?: (sql: string) => void
}

export interface TestDatabase {
  readonly kind: DatabaseKind
  readonly prisma: TestClient
  /**
   * Another client on the same database, with connections of its own (as another process has), at
   * most `connections` of them (PostgreSQL), telling `onQuery` every SQL statement it sends;
   * closed by `close`.
   */
  connect(options?: ConnectOptions): TestClient
  /** Where the tables are, for `connectTo`: the SQLite file, or the PostgreSQL schema. */
  readonly location: string
  /** PostgreSQL: the schema the tables are in. */
  readonly schema?: string
  /** Empty every table and restart the ids. */
  reset(): Promise<void>
  /** A writer with its own connection, as another process has (the caller closes it). */
  otherWriter(): OtherWriter
  close(): Promise<void>
}

const tables = ['OrderItem', 'Order', 'Product', 'User', 'Account', 'Transfer']

export async function openDatabase(kind: DatabaseKind, label: string): Promise<TestDatabase> {
  return kind === 'sqlite' ? openSqlite(label) : openPostgres(label)
}

function migration(kind: DatabaseKind): string {
  return readFileSync(new URL(`../prisma/${kind}.sql`, import.meta.url), 'utf8')
}

async function openSqlite(label: string): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `cachelock-prisma-${label}-`))
  const url = join(dir, 'test.db')
  const setup = await new PrismaBetterSqlite3({ url }).connect()
  await setup.executeScript(migration('sqlite'))
  await setup.dispose()
  const prisma = connectTo('sqlite', url)
  const others: TestClient[] = []
  return {
    kind: 'sqlite',
    prisma,
    location: url,
    connect(options) {
      const other = connectTo('sqlite', url, options)
      others.push(other)
      return other
    },
    otherWriter: () => sqliteWriter(url),
    async reset() {
      await prisma.$executeRawUnsafe('PRAGMA foreign_keys = OFF')
      for (const table of tables) await prisma.$executeRawUnsafe(`DELETE FROM "${table}"`)
      await prisma.$executeRawUnsafe('DELETE FROM sqlite_sequence')
      await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON')
    },
    async close() {
      for (const client of [prisma, ...others]) await client.$disconnect()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function openPostgres(label: string): Promise<TestDatabase> {
  const schema = `cachelock_${label.replace(/\W/g, '_')}_${process.pid}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(
    `DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";\n${migration('postgresql')}`,
  )
  await admin.end()
  const prisma = connectTo('postgresql', schema)
  const others: TestClient[] = []
  return {
    kind: 'postgresql',
    prisma,
    location: schema,
    schema,
    connect(options) {
      const other = connectTo('postgresql', schema, options)
      others.push(other)
      return other
    },
    otherWriter: () => postgresWriter(PG_URL, schema),
    async reset() {
      await prisma.$executeRawUnsafe(`TRUNCATE ${tables.map((table) => `"${schema}"."${table}"`).join(', ')} RESTART IDENTITY CASCADE`)
    },
    async close() {
      for (const other of [prisma, ...others]) await other.$disconnect()
      const drop = new pg.Client({ connectionString: PG_URL })
      await drop.connect()
      await drop.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await drop.end()
    },
  }
}

/**
 * A client on tables another client made: `location` is the SQLite file or the PostgreSQL schema
 * (`TestDatabase.location`). Other processes (the reliability suite's workers) connect with it.
 */
export function connectTo(kind: DatabaseKind, location: string, options?: ConnectOptions): TestClient {
  const log = logOption(options)
  const client =
    kind === 'sqlite'
      ? new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: location }), ...log })
      : (new PostgresClient({
          adapter: new PrismaPg(
            {
              connectionString: PG_URL,
              ...(options?.connections ? { max: options.connections } : {}),
              ...(options?.applicationName ? { application_name: options.applicationName } : {}),
            },
            { schema: location },
          ),
          ...log,
        }) as unknown as TestClient)
  return logged(client, options)
}

function logOption(options: ConnectOptions | undefined): { log?: [{ emit: 'event'; level: 'query' }] } {
  return options?.onQuery ? { log: [{ emit: 'event', level: 'query' }] } : {}
}

function logged(client: TestClient, options: ConnectOptions | undefined): TestClient {
  const onQuery = options?.onQuery
  if (onQuery)
    (client as unknown as { $on(event: 'query', listener: (e: { query: string }) => void): void }).$on('query', (e) => onQuery(e.query))
  return client
}
