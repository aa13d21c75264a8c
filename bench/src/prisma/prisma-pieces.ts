import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLockManager, MemoryStore } from '@cachelock/core'
import { withRecordLocks } from '@cachelock/core/adapter-kit'
import { RedisStore } from '@cachelock/core/redis'
import { lockExtension } from '@cachelock/prisma'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../../generated/prisma/client.js'
import { openRedis } from '../clients/redis.js'
import { benchRoot } from '../paths.js'
import { handRedisLock } from './hand-redis-lock.js'
import { loadPrismaB } from './prisma-b.js'
import { interleave } from '../runner/interleave.js'
import { pairedRatios, summarize } from '../runner/stats.js'

/**
 * Where `withLock`'s own time goes on Prisma (issue 20), piece by piece: the bare transaction, the
 * same on the extended client and on one with an `$allOperations` hook (the client `withLock` runs
 * `fn` with), the lock manager and `withRecordLocks` around it, and `withLock` itself, on the memory
 * store (no lock round trips) and on Redis. Every piece is timed interleaved, round by round, and
 * reported as a ratio to the bare transaction in the same round (or to the piece `--vs` names).
 * Run it through its launcher:
 *
 *   node --import tsx bench/src/prisma/pieces-launch.ts [--rounds=N] [--batch=ms] [--only=a,b] [--vs=piece]
 *   node --import tsx bench/src/prisma/pieces-launch.ts --profile=withLock-memory [--seconds=N]
 *
 * `--profile` runs one piece in a loop under `node --cpu-prof` and prints the profile's summary;
 * `--count[=calls]` counts what each piece allocates instead of timing it (promises, scavenges).
 * Needs PostgreSQL (`CACHELOCK_TEST_PG_URL`) and, for the Redis pieces, `CACHELOCK_TEST_REDIS_URL`.
 */
const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key = '', value = ''] = arg.replace(/^--/, '').split('=')
    return [key, value]
  }),
)
const pgUrl = need('CACHELOCK_TEST_PG_URL')
const redisUrl = need('CACHELOCK_TEST_REDIS_URL')
const schema = `cachelock_pieces_${process.pid}`
const namespace = `pieces:${process.pid}`

await createTables(pgUrl, schema)
const redis = await openRedis(redisUrl)
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: pgUrl }, { schema }) })
const memoryLocks = createLockManager({ store: new MemoryStore(), prefix: `${namespace}:` })
const redisLocks = createLockManager({ store: new RedisStore(redis), prefix: `${namespace}:` })
const dbMemory = prisma.$extends(lockExtension({ locks: memoryLocks }))
const dbRedis = prisma.$extends(lockExtension({ locks: redisLocks }))
// A second "process" on the same row: its own Redis connection and manager.
const redis2 = await openRedis(redisUrl)
const dbRedis2 = prisma.$extends(lockExtension({ locks: createLockManager({ store: new RedisStore(redis2), prefix: `${namespace}:` }) }))
// What withLock runs its transaction on: the extended client with a hook on every operation.
const hooked = dbMemory.$extends({
  query: { $allOperations: async ({ args, query }: { args: unknown; query: (args: unknown) => Promise<unknown> }) => query(args) },
})
const prismaB = await loadPrismaB()
const dbMemoryB = prismaB && prisma.$extends(prismaB.lockExtension({ locks: memoryLocks }))
const dbRedisB = prismaB && prisma.$extends(prismaB.lockExtension({ locks: redisLocks }))
const dbRedis2B =
  prismaB &&
  dbRedis2 &&
  prisma.$extends(prismaB.lockExtension({ locks: createLockManager({ store: new RedisStore(redis2), prefix: `${namespace}:` }) }))
const noop = prisma.$extends({ name: 'noop', model: { $allModels: { noop: () => 0 } } })

try {
  const { id } = await prisma.order.create({ data: { total: 42 } })
  const where = { where: { id } }
  const read = (tx: { order: { findUnique(args: object): Promise<unknown> } }) => tx.order.findUnique(where)
  const txRead = () => prisma.$transaction(read)
  const hand = await handRedisLock(redis, prisma, `{${namespace}:hand:order:${id}}`, id)
  const contended = (a: typeof dbRedis, b: typeof dbRedis) =>
    Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 ? b : a).order.withLock(id, (order, { tx }) => tx.order.update({ where: { id }, data: { total: order.total + 1 } })),
      ),
    )
  const pieces: [id: string, label: string, op: () => Promise<unknown>][] = [
    ['findUnique', 'findUnique, plain client', () => prisma.order.findUnique(where)],
    ['findUnique-extended', 'findUnique, extended client', () => dbMemory.order.findUnique(where)],
    ['findUnique-noop', 'findUnique, empty model extension', () => noop.order.findUnique(where)],
    ['tx-read', '$transaction + findUnique (plain client)', txRead],
    ['tx-orThrow', '$transaction + findUniqueOrThrow (plain client)', () => prisma.$transaction((tx) => tx.order.findUniqueOrThrow(where))],
    ['tx-extended', '$transaction + findUnique on the extended client', () => dbMemory.$transaction(read)],
    ['tx-hooked', '$transaction + findUnique, extended client + $allOperations hook', () => hooked.$transaction(read)],
    ['manager+tx', 'memory manager withLock around the bare transaction', () => memoryLocks.withLock(`order:id:${id}`, txRead)],
    [
      'records+tx',
      'withRecordLocks (memory) around the bare transaction',
      () => withRecordLocks(memoryLocks, [`order:id:${id}`], {}, undefined, txRead),
    ],
    ['withLock-memory', 'withLock + read (memory store)', () => dbMemory.order.withLock(id, (order) => order)],
    [
      'withLock-memory-notx',
      'withLock + read, transaction: false (memory store)',
      () => dbMemory.order.withLock(id, (order) => order, { transaction: false }),
    ],
    ['withLock-redis', 'withLock + read (Redis)', () => dbRedis.order.withLock(id, (order) => order)],
    ['hand-redis', 'hand-written Redis lock: acquire, $transaction + findUnique + owner check, release', hand.sequential],
    ['hand-redis-overlap', 'the same, acquire sent beside BEGIN', hand.beside],
    ['manager-redis', 'Redis manager withLock, empty', () => redisLocks.withLock(`order:id:${id}`, () => undefined)],
    [
      'manager-redis-check',
      'Redis manager withLock + ensureHeld, empty',
      () => redisLocks.withLock(`order:id:${id}`, (lock) => lock.ensureHeld()),
    ],
    // Contended: 16 read-increment-writes of one row at once, 8 from each of two managers (withLock),
    // or 16 advisory-lock transactions; one call of the piece serves all 16.
    ['contended-withLock', '16 withLock read-increment-writes at once, two managers (Redis)', () => contended(dbRedis, dbRedis2)],
    [
      'contended-advisory',
      '16 advisory-lock read-increment-write transactions at once',
      () =>
        Promise.all(
          Array.from({ length: 16 }, () =>
            prisma.$transaction(async (tx) => {
              await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', `order:id:${id}`)
              const order = await tx.order.findUniqueOrThrow({ where: { id } })
              return tx.order.update({ where: { id }, data: { total: order.total + 1 } })
            }),
          ),
        ),
    ],
  ]
  if (dbMemoryB && dbRedisB) {
    pieces.push(
      ['withLock-memory-B', 'withLock + read (memory store), copy B', () => dbMemoryB.order.withLock(id, (order) => order)],
      ['withLock-redis-B', 'withLock + read (Redis), copy B', () => dbRedisB.order.withLock(id, (order) => order)],
      ['contended-withLock-B', 'the contended withLock, copy B', () => contended(dbRedisB, dbRedis2B!)],
    )
  }
  const only = args.get('only')?.split(',')
  const base = args.get('vs') || 'tx-read'
  const chosen = only ? pieces.filter(([key]) => key === base || only.includes(key)) : pieces
  const profile = args.get('profile')
  if (args.has('count')) {
    // What a call allocates, counted rather than timed (a busy machine does not change the counts):
    // promises made (each one pays Node's promise hooks once an AsyncLocalStorage is in use) and
    // young-generation collections (each one ~ a semi-space of garbage).
    const { createHook } = await import('node:async_hooks')
    const { PerformanceObserver, constants } = await import('node:perf_hooks')
    let promises = 0
    let scavenges = 0
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) })
    const gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++
    })
    gc.observe({ entryTypes: ['gc'] })
    const calls = Number(args.get('count') || 2000)
    for (const [, , each] of pieces) await each() // as in the interleaved run: see --profile
    console.log('piece'.padEnd(22), 'promises/call'.padStart(14), 'scavenges/1000 calls'.padStart(22))
    for (const [key, , op] of chosen) {
      for (let i = 0; i < 200; i++) await op()
      await new Promise((resolve) => setTimeout(resolve, 50))
      promises = 0
      scavenges = 0
      hook.enable()
      for (let i = 0; i < calls; i++) await op()
      hook.disable()
      const made = promises
      await new Promise((resolve) => setTimeout(resolve, 50))
      console.log(key.padEnd(22), (made / calls).toFixed(1).padStart(14), ((1000 * scavenges) / calls).toFixed(2).padStart(22))
    }
    gc.disconnect()
    const alloc = args.get('alloc')
    if (alloc) {
      // Every allocation sampled, garbage included (the sampling heap profiler), for one piece:
      // written as a .heapprofile, readable in Chrome's DevTools.
      const op = pieces.find(([key]) => key === alloc)?.[2]
      if (!op) throw new Error(`no piece ${alloc}`)
      const { Session } = await import('node:inspector/promises')
      const session = new Session()
      session.connect()
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never)
      for (let i = 0; i < calls; i++) await op()
      const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: unknown }
      session.disconnect()
      const file = join(tmpdir(), `${alloc}-${process.pid}.heapprofile`)
      writeFileSync(file, JSON.stringify(profile))
      console.log(`${calls} calls of ${alloc}: ${file}`)
    }
    const where = args.get('where')
    if (where) {
      // Where one call of a piece makes its promises: the innermost frame outside Node's own code.
      const op = pieces.find(([key]) => key === where)?.[2]
      if (!op) throw new Error(`no piece ${where}`)
      const sites = new Map<string, number>()
      const trace = createHook({
        init(_id, type) {
          if (type !== 'PROMISE') return
          const frames = (new Error().stack ?? '').split('\n').slice(2)
          const site = frames.find((frame) => !frame.includes('node:') && !frame.includes('<anonymous>')) ?? '(node)'
          const short = site.trim().replace(/\(?[^ (]*\/(node_modules\/\.pnpm\/)?([^/]+)\/[^ ]*?([^/ ]+:\d+):\d+\)?$/, '$2 $3')
          sites.set(short, (sites.get(short) ?? 0) + 1)
        },
      })
      Error.stackTraceLimit = 30
      trace.enable()
      await op()
      trace.disable()
      for (const [site, n] of [...sites].sort((a, b) => b[1] - a[1])) console.log(String(n).padStart(4), site)
    }
  } else if (profile) {
    const op = pieces.find(([key]) => key === profile)?.[2]
    if (!op) throw new Error(`no piece ${profile}: ${pieces.map(([key]) => key).join(', ')}`)
    // Every piece once first: the process is then as in the interleaved run (the AsyncLocalStorage
    // withLock enters turns on Node's promise hooks, which every promise pays from then on).
    for (const [, , each] of pieces) await each()
    const until = performance.now() + Number(args.get('seconds') || 10) * 1000
    let count = 0
    while (performance.now() < until) {
      for (let i = 0; i < 100; i++) await op()
      count += 100
    }
    console.log(`${profile}: ${count} calls`)
  } else {
    // Wall time per call, as the bench measures it, and this process's CPU time per call
    // (process.cpuUsage): the adapter's JavaScript is CPU time, which the other processes on a
    // busy machine stretch far less than they stretch the round trips.
    const batchMs = Number(args.get('batch') || 60)
    const cpu: Record<string, number[]> = {}
    const contenders = chosen.map(([key, label, op]) => {
      let count = 5
      cpu[key] = []
      const batch = async (n: number) => {
        const started = performance.now()
        const used = process.cpuUsage()
        for (let i = 0; i < n; i++) await op()
        const { user, system } = process.cpuUsage(used)
        return { wall: ((performance.now() - started) * 1000) / n, cpu: (user + system) / n }
      }
      return {
        id: key,
        label,
        async prepare() {
          const { wall } = await batch(50)
          count = Math.max(5, Math.round((batchMs * 1000) / wall))
        },
        async measure() {
          const { wall, cpu: used } = await batch(count)
          cpu[key]!.push(used)
          return wall
        },
      }
    })
    const samples = await interleave(contenders, { rounds: Number(args.get('rounds') || 12) })
    console.log(
      `load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    )
    console.log(
      'piece'.padEnd(22),
      'wall µs'.padStart(8),
      `wall vs ${base}`.padStart(20),
      'cpu µs'.padStart(8),
      `cpu vs ${base}`.padStart(20),
      ' label',
    )
    const spread = (ratios: number[]) => {
      const { median, p25, p75 } = summarize(ratios)
      return `${median.toFixed(2)} (${p25.toFixed(2)}–${p75.toFixed(2)})`
    }
    for (const [key, label] of chosen) {
      const wall = spread(pairedRatios(samples[key]!, samples[base]!))
      const used = spread(pairedRatios(cpu[key]!, cpu[base]!))
      const cells = [
        summarize(samples[key]!).median.toFixed(0).padStart(8),
        wall.padStart(20),
        summarize(cpu[key]!).median.toFixed(0).padStart(8),
        used.padStart(20),
      ]
      console.log(key.padEnd(22), ...cells, ` ${label}`)
    }
  }
} finally {
  await prisma.$disconnect()
  await memoryLocks.close()
  await redisLocks.close()
  redis.disconnect()
  redis2.disconnect()
  await dropSchema(pgUrl, schema)
}

function need(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: source .wt-env and eval "$(bash scripts/services.sh env)"`)
  return value
}

async function createTables(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const sql = readFileSync(join(benchRoot, 'prisma/tables.sql'), 'utf8')
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE; CREATE SCHEMA "${name}"; SET search_path TO "${name}";\n${sql}`)
  } finally {
    await client.end()
  }
}

async function dropSchema(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).finally(() => client.end())
}
