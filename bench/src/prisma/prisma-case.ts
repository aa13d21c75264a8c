import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLockManager, MemoryStore } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { PostgresStore } from '@cachelock/core/postgres'
import { lockExtension } from '@cachelock/prisma'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../../generated/prisma/client.js'
import { ratio, rowsOf } from '../cases/rows.js'
import { openRedis } from '../clients/redis.js'
import type { BenchContext } from '../context.js'
import { benchRoot } from '../paths.js'
import { targetResult, type CaseResult, type TargetResult } from '../results.js'
import { interleave, latencyContender, type Samples } from '../runner/interleave.js'
import { handRedisLock } from './hand-redis-lock.js'
import { roundTripsPerCall, type RoundTrips } from './round-trips.js'

/**
 * Where a Prisma user's time goes, PostgreSQL on loopback (issues 16 and 20), every contender on the
 * same order row, interleaved round by round, with PostgreSQL and Redis round trips counted per call:
 *
 * - `findUnique` on the plain client and on the extended one (the extension must cost nothing
 *   outside a lock), and on a client with an empty model extension: what Prisma itself charges
 *   any client extended with model methods;
 * - `db.order.withLock(id, fn)` with the lock on Redis (acquire, BEGIN, read, ownership check,
 *   COMMIT, release), in memory (the adapter's and manager's own cost), in PostgreSQL through
 *   `PostgresStore`, and in the transaction itself (`lockIn: 'transaction'`);
 * - what users write by hand: `$transaction` + `SELECT … FOR UPDATE` (lock and read in one
 *   statement), `$transaction` + `pg_advisory_xact_lock` + `findUnique`, and `$transaction` +
 *   `findUnique` with no lock at all, for scale;
 * - the floor of any lock kept outside the database with withLock's guarantees, written by hand:
 *   a fenced acquire script, the transaction with an owner check before COMMIT, a compare-and-
 *   delete release (3 Redis and 3 PostgreSQL round trips, as withLock);
 * - the fenced variants (`fence` column: the read is the claim).
 *
 * Compiled as an entry point of its own (see compile.ts): if the Prisma adapter does not compile,
 * only this case is skipped.
 */
export async function runPrismaCase(
  context: BenchContext,
): Promise<Omit<CaseResult, 'id' | 'title' | 'durationMs'> & { postgres: string }> {
  const { urls, settings, namespace, progress } = context
  const schema = `cachelock_bench_${process.pid}`
  const postgres = await createTables(urls.postgres, schema)
  const redis = await openRedis(urls.redis)
  const locks = createLockManager({ store: new RedisStore(redis), prefix: `${namespace}:` })
  const memoryLocks = createLockManager({ store: new MemoryStore(), prefix: `${namespace}:` })
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: urls.postgres }, { schema }) })
  const db = prisma.$extends(lockExtension({ locks }))
  const noop = prisma.$extends({ name: 'noop', model: { $allModels: { noop: () => 0 } } })
  const dbMemory = prisma.$extends(lockExtension({ locks: memoryLocks }))
  const dbTx = prisma.$extends(lockExtension({ lockIn: 'transaction' }))
  const lockPool = new pg.Pool({ connectionString: urls.postgres, max: 2 })
  const pgLocks = createLockManager({ store: new PostgresStore(lockPool, { table: 'cachelock_bench_locks' }), prefix: `${namespace}:` })
  const dbPg = prisma.$extends(lockExtension({ locks: pgLocks }))
  // The same table with a fence column: withLock's read becomes the claim (UPDATE … RETURNING).
  const fenced = prisma.$extends(lockExtension({ locks, models: { Order: { fence: 'lockFence' } } }))
  const fencedTx = prisma.$extends(lockExtension({ lockIn: 'transaction', models: { Order: { fence: 'lockFence' } } }))
  try {
    const { id } = await db.order.create({ data: { total: 42 } })
    const hand = await handRedisLock(redis, prisma, `{${namespace}:hand:order:${id}}`, id)
    const table = `"${schema}"."Order"`
    const ops: [id: string, label: string, op: () => Promise<unknown>][] = [
      ['rtt', 'Redis round trip (PING)', () => redis.ping()],
      ['plain', 'findUnique, plain client', () => prisma.order.findUnique({ where: { id } })],
      ['extended', 'findUnique, extended client', () => db.order.findUnique({ where: { id } })],
      ['noop-extension', 'findUnique, client with an empty model extension', () => noop.order.findUnique({ where: { id } })],
      ['withLock', 'withLock + read (Redis)', () => db.order.withLock(id, (order) => order)],
      ['withLock-memory', 'withLock + read (memory store)', () => dbMemory.order.withLock(id, (order) => order)],
      ['withLock-tx', "withLock + read, lockIn: 'transaction'", () => dbTx.order.withLock(id, (order) => order)],
      ['withLock-pg', 'withLock + read (PostgresStore)', () => dbPg.order.withLock(id, (order) => order)],
      [
        'for-update',
        'hand-written: $transaction + SELECT … FOR UPDATE',
        () => prisma.$transaction((tx) => tx.$queryRawUnsafe(`SELECT * FROM ${table} WHERE id = $1 FOR UPDATE`, id)),
      ],
      [
        'advisory',
        'hand-written: $transaction + pg_advisory_xact_lock + findUnique',
        () =>
          prisma.$transaction(async (tx) => {
            await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', `order:id:${id}`)
            return tx.order.findUnique({ where: { id } })
          }),
      ],
      ['hand-redis', 'hand-written Redis lock: fenced acquire, $transaction + findUnique + owner check, release', hand.sequential],
      ['hand-redis-beside', 'the same hand-written Redis lock, acquire sent beside BEGIN', hand.beside],
      ['tx-read', '$transaction + findUnique, no lock', () => prisma.$transaction((tx) => tx.order.findUnique({ where: { id } }))],
      [
        'withLock-no-tx',
        'withLock + read, transaction: false (Redis)',
        () => db.order.withLock(id, (order) => order, { transaction: false }),
      ],
      ['withLock-fenced', 'withLock + claim, fence column (Redis)', () => fenced.order.withLock(id, (order) => order)],
      ['withLock-tx-fenced', "withLock + claim, fence column, lockIn: 'transaction'", () => fencedTx.order.withLock(id, (order) => order)],
    ]
    const contenders = ops.map(([key, label, op]) => latencyContender(key, label, op, settings))
    const samples = await interleave(contenders, {
      rounds: settings.rounds,
      onSample: (round, c) => progress.update(`prisma: round ${round + 1}/${settings.rounds} ${c.label}`),
    })
    const trips = new Map<string, RoundTrips>()
    for (const [key, , op] of ops) trips.set(key, await roundTripsPerCall(op, redis, settings.rounds))
    const rows = rowsOf(contenders, samples, 'µs/op')
    for (const row of rows) {
      const { pg: pgTrips, redis: redisTrips } = trips.get(row.id)!
      row.extra = {
        'vs plain findUnique': ratio(samples, row.id, 'plain').median,
        'vs FOR UPDATE tx': ratio(samples, row.id, 'for-update').median,
        'vs advisory tx': ratio(samples, row.id, 'advisory').median,
        'vs hand-written Redis lock': ratio(samples, row.id, 'hand-redis').median,
        'PG / Redis round trips': `${round(pgTrips)} / ${round(redisTrips)}`,
      }
    }
    return { postgres, rows, targets: prismaTargets(samples), notes: notes(settings.batchMs, settings.rounds) }
  } finally {
    await prisma.$disconnect()
    await locks.close()
    await memoryLocks.close()
    await pgLocks.close()
    await lockPool.end()
    redis.disconnect()
    await dropSchema(urls.postgres, schema)
  }
}

function prismaTargets(samples: Samples): TargetResult[] {
  const extended = ratio(samples, 'extended', 'plain')
  return [
    // "Within its spread": the paired ratios' lower quartile is at or under 1.00.
    {
      ...targetResult({
        target: 'extended-client findUnique 1.00× the plain client (within its spread)',
        measure: 'findUnique on the extended client ÷ on the plain client, paired by round; met when p25 ≤ 1.00',
        unit: '×',
        summary: extended,
        comparison: '<=',
        limit: 1,
      }),
      met: extended.p25 <= 1,
    },
    targetResult({
      target: 'withLock (Redis) ≤ 1.2× the hand-written advisory-lock transaction',
      measure: 'withLock + read on Redis ÷ $transaction + pg_advisory_xact_lock + findUnique, paired by round',
      unit: '×',
      summary: ratio(samples, 'withLock', 'advisory'),
      comparison: '<=',
      limit: 1.2,
    }),
    targetResult({
      target: "withLock, lockIn: 'transaction' ≤ 1.0× the one-statement FOR UPDATE transaction",
      measure: "withLock + read with lockIn: 'transaction' ÷ $transaction + SELECT … FOR UPDATE, paired by round",
      unit: '×',
      summary: ratio(samples, 'withLock-tx', 'for-update'),
      comparison: '<=',
      limit: 1,
    }),
  ]
}

function notes(batchMs: number, rounds: number): string[] {
  return [
    `PostgreSQL through @prisma/adapter-pg, Redis through ioredis, both on loopback; one order row; sequential calls in ` +
      `batches of ~${batchMs} ms, ${rounds} interleaved rounds; ratios are paired round by round.`,
    'Round trips are counted after the timed rounds, over as many calls: every pg client query (BEGIN and COMMIT included) ' +
      'and every Redis command. withLock (Redis) = acquire + BEGIN + read + ownership check + COMMIT + release: 3 PG, 3 Redis; ' +
      'the acquire and BEGIN are sent together when the lock is likely free (as in the "beside BEGIN" hand-written lock). ' +
      "lockIn: 'transaction' = BEGIN + pg_advisory_xact_lock + read + COMMIT: 4 PG, nothing else.",
    'With a fence column the read is the claim, one UPDATE … RETURNING (a row write where the plain read was a SELECT). ' +
      'PostgresStore keeps its locks on a pool of its own (2 connections).',
    'The empty model extension is one model method on $allModels and nothing else: what Prisma adds to every query of a client ' +
      "extended with model methods, whoever wrote them. The hand-written Redis lock has withLock's guarantees and round trips " +
      '(a fencing token, an owner check before COMMIT, an owner-checked release) and nothing else: no queue, renewal, lost-lock ' +
      'signal or nested calls.',
    'The hand-written FOR UPDATE transaction locks and reads in one raw statement; it gives no fencing token and, unlike ' +
      "withLock, returns the row untyped (column names, no Prisma types). The advisory one is what lockIn: 'transaction' does.",
  ]
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

/** A schema of this run's own with the bench's tables; returns the server's version. */
async function createTables(url: string, schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const sql = readFileSync(join(benchRoot, 'prisma/tables.sql'), 'utf8')
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";\n${sql}`)
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version ?? 'unknown'
  } finally {
    await client.end()
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end())
}
