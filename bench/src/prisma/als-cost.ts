import { AsyncLocalStorage } from 'node:async_hooks'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLockManager, MemoryStore } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../../generated/prisma/client.js'
import { benchRoot } from '../paths.js'

/**
 * What an AsyncLocalStorage in use costs every Prisma query on this Node, locked or not:
 *
 *   node --import tsx bench/src/prisma/als-cost.ts [--rounds=3]
 *
 * Each round runs three fresh processes: one that never uses an AsyncLocalStorage, one that runs
 * one first and leaves it enabled (on Node 20 and 22 Node's promise hooks then stay on for every
 * promise), and one that runs one cachelock `withLock` first (its flow storages are disabled when
 * no `withLock` runs), and times `findUnique` and `$transaction` + `findUnique` on the plain
 * client in each. The bench's other cases run every contender in one process: this is the one
 * place the hooks' cost outside a lock shows.
 * Needs PostgreSQL (`CACHELOCK_TEST_PG_URL`).
 */
const url = process.env['CACHELOCK_TEST_PG_URL']
if (!url) throw new Error('CACHELOCK_TEST_PG_URL is not set: eval "$(bash scripts/services.sh env)"')
const mode = process.argv[2]

if (mode === 'plain' || mode === 'storage' || mode === 'withLock') {
  console.log(JSON.stringify(await measure(url, mode)))
} else {
  const { execFileSync } = await import('node:child_process')
  const rounds = Number(/^--rounds=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 3)
  const run = (which: string) =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, which], { encoding: 'utf8' })) as Timing
  const rows: Array<[string, Timing]> = []
  for (let round = 0; round < rounds; round++)
    rows.push(['no AsyncLocalStorage', run('plain')], ['one AsyncLocalStorage used', run('storage')], ['one withLock run', run('withLock')])
  const median = (label: string, key: keyof Timing) => {
    const values = rows
      .filter(([name]) => name === label)
      .map(([, timing]) => timing[key])
      .sort((a, b) => a - b)
    return values[Math.floor(values.length / 2)]!
  }
  console.log(`${process.version}, ${rounds} rounds (medians, µs per call)`)
  for (const key of ['findUnique', 'transaction'] as const) {
    const without = median('no AsyncLocalStorage', key)
    const withStorage = median('one AsyncLocalStorage used', key)
    const afterLock = median('one withLock run', key)
    console.log(
      `${key.padEnd(12)} without ${without.toFixed(1)}  AsyncLocalStorage left on ${withStorage.toFixed(1)} (${(withStorage / without).toFixed(3)})` +
        `  after a withLock ${afterLock.toFixed(1)} (${(afterLock / without).toFixed(3)})`,
    )
  }
}

interface Timing {
  findUnique: number
  transaction: number
}

async function measure(connectionString: string, mode: 'plain' | 'storage' | 'withLock'): Promise<Timing> {
  const schema = `cachelock_als_${process.pid}`
  const admin = new pg.Client({ connectionString })
  await admin.connect()
  const sql = readFileSync(join(benchRoot, 'prisma/tables.sql'), 'utf8')
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";\n${sql}`)
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema }) })
  try {
    const { id } = await prisma.order.create({ data: { total: 1 } })
    if (mode === 'storage') new AsyncLocalStorage().run({}, () => undefined)
    if (mode === 'withLock') {
      const db = prisma.$extends(lockExtension({ locks: createLockManager({ store: new MemoryStore() }) }))
      await db.order.withLock(id, (order, { tx }) => tx.order.update({ where: { id }, data: { total: order.total + 1 } }))
    }
    const reads = async (n: number) => {
      for (let i = 0; i < n; i++) await prisma.order.findUnique({ where: { id } })
    }
    const transactions = async (n: number) => {
      for (let i = 0; i < n; i++) await prisma.$transaction(async (tx) => tx.order.findUnique({ where: { id } }))
    }
    await reads(2000)
    await transactions(500)
    const start = performance.now()
    await reads(8000)
    const between = performance.now()
    await transactions(3000)
    const end = performance.now()
    return { findUnique: ((between - start) / 8000) * 1000, transaction: ((end - between) / 3000) * 1000 }
  } finally {
    await prisma.$disconnect()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end())
  }
}
