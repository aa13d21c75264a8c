import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLockManager } from '@cachelock/core'
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
import { targetResult, type CaseResult } from '../results.js'
import { interleave, latencyContender } from '../runner/interleave.js'
import { summarize } from '../runner/stats.js'

/**
 * `db.order.withLock(id, fn)` (lock on Redis, record read fresh, `fn` in an interactive
 * transaction, ownership confirmed before commit, release) against a plain `findUnique` of the
 * same row on the same extended client, PostgreSQL on loopback. The overhead target is two Redis
 * round trips (acquire, release) plus 10 % of the plain read.
 *
 * Beside it: the same `withLock` with the lock in PostgreSQL itself (`PostgresStore` on a pool of
 * its own to the same database), and what users write by hand without cachelock: an interactive
 * `$transaction` that reads the row with `SELECT … FOR UPDATE`.
 * And the same `withLock` on a model with a fence column, whose read is the claim.
 *
 * Compiled as an entry point of its own (see compile.ts): the Prisma adapter is young, and if its
 * sources do not compile, only this case is skipped.
 */
export async function runPrismaCase(
  context: BenchContext,
): Promise<Omit<CaseResult, 'id' | 'title' | 'durationMs'> & { postgres: string }> {
  const { urls, settings, namespace, progress } = context
  const schema = `cachelock_bench_${process.pid}`
  const postgres = await createTables(urls.postgres, schema)
  const redis = await openRedis(urls.redis)
  const locks = createLockManager({ store: new RedisStore(redis), prefix: `${namespace}:` })
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: urls.postgres }, { schema }) })
  const db = prisma.$extends(lockExtension({ locks }))
  const lockPool = new pg.Pool({ connectionString: urls.postgres, max: 2 })
  const pgLocks = createLockManager({ store: new PostgresStore(lockPool, { table: 'cachelock_bench_locks' }), prefix: `${namespace}:` })
  const dbPg = prisma.$extends(lockExtension({ locks: pgLocks }))
  // The same table with a fence column: withLock's read becomes the claim (UPDATE … RETURNING).
  const fenced = prisma.$extends(lockExtension({ locks, models: { Order: { fence: 'lockFence' } } }))
  try {
    const { id } = await db.order.create({ data: { total: 42 } })
    const contenders = [
      latencyContender('rtt', 'Redis round trip (PING)', () => redis.ping(), settings),
      latencyContender('plain', 'findUnique', () => db.order.findUnique({ where: { id } }), settings),
      latencyContender('withLock', 'withLock + read', () => db.order.withLock(id, (order) => order), settings),
      latencyContender(
        'withLock-pg',
        'withLock + read, lock in PostgreSQL (PostgresStore)',
        () => dbPg.order.withLock(id, (order) => order),
        settings,
      ),
      latencyContender(
        'for-update',
        'hand-written $transaction + SELECT … FOR UPDATE',
        () => prisma.$transaction((tx) => tx.$queryRawUnsafe(`SELECT * FROM "${schema}"."Order" WHERE id = $1 FOR UPDATE`, id)),
        settings,
      ),
      latencyContender(
        'withLock-no-tx',
        'withLock + read, transaction: false',
        () => db.order.withLock(id, (order) => order, { transaction: false }),
        settings,
      ),
      latencyContender('withLock-fenced', 'withLock + claim (fence column)', () => fenced.order.withLock(id, (order) => order), settings),
      latencyContender(
        'withLock-fenced-no-tx',
        'withLock + claim, transaction: false',
        () => fenced.order.withLock(id, (order) => order, { transaction: false }),
        settings,
      ),
    ]
    const samples = await interleave(contenders, {
      rounds: settings.rounds,
      onSample: (round, c) => progress.update(`prisma: round ${round + 1}/${settings.rounds} ${c.label}`),
    })
    const rows = rowsOf(contenders, samples, 'µs/op')
    const overhead = (id: string) => samples[id]!.map((value, round) => value - samples['plain']![round]!)
    const inRoundTrips = (id: string) => overhead(id).map((value, round) => value / samples['rtt']![round]!)
    for (const row of rows) {
      row.extra = { 'vs findUnique': ratio(samples, row.id, 'plain').median }
      if (row.id.startsWith('withLock')) {
        row.extra['overhead µs'] = summarize(overhead(row.id)).median
        row.extra['overhead in Redis RTs'] = summarize(inRoundTrips(row.id)).median
      }
      // The claim's cost: the fenced call against the same call on the unfenced model, paired by round.
      if (row.id === 'withLock-fenced') row.extra['vs unfenced'] = ratio(samples, row.id, 'withLock').median
      if (row.id === 'withLock-fenced-no-tx') row.extra['vs unfenced'] = ratio(samples, row.id, 'withLock-no-tx').median
    }
    // Per round: overhead ÷ (2 round trips + 10 % of the plain read); ≤ 1 meets the target.
    const budgetShare = (id: string) =>
      summarize(overhead(id).map((value, round) => value / (2 * samples['rtt']![round]! + 0.1 * samples['plain']![round]!)))
    return {
      postgres,
      rows,
      targets: [
        targetResult({
          target: 'overhead ≤ 2 round trips + 10 %',
          measure: '(withLock + read − findUnique) ÷ (2 Redis round trips + 10 % of findUnique), paired by round',
          unit: '× budget',
          summary: budgetShare('withLock'),
          comparison: '<=',
          limit: 1,
        }),
      ],
      notes: [
        `PostgreSQL through @prisma/adapter-pg, the lock on Redis, both on loopback; one order row; sequential operations in ` +
          `batches of ~${settings.batchMs} ms, ${settings.rounds} interleaved rounds.`,
        'withLock (defaults) = acquire (1 Redis round trip) + BEGIN + read + ownership check before commit (1 Redis round trip) ' +
          '+ COMMIT + release (1 Redis round trip). "transaction: false" leaves out BEGIN/COMMIT, for scale.',
        "With a fence column the read is the claim, one UPDATE … RETURNING that raises the fence to the lock's token and " +
          'returns the row (a PostgreSQL row write where the plain read was a SELECT); "vs unfenced" is its cost, paired by round.',
        'With PostgresStore the three lock round trips go to PostgreSQL on a pool of their own (2 connections): acquire, the ' +
          'ownership check (an owner-checked UPDATE), release. The hand-written alternative is BEGIN + SELECT … FOR UPDATE + COMMIT: ' +
          'a row lock that needs no lock service, but holds a connection while waiting and gives no fencing token, no lost-lock ' +
          'check, no ttl (a stuck transaction holds the row until the server kills it).',
      ],
    }
  } finally {
    await prisma.$disconnect()
    await locks.close()
    await pgLocks.close()
    await lockPool.end()
    redis.disconnect()
    await dropSchema(urls.postgres, schema)
  }
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
