import { readFileSync, rmSync } from 'node:fs'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { lockExtension } from '@cachelock/prisma'
import { PrismaClient } from '../generated/prisma/client.ts'

/** A fresh SQLite database with the tables of prisma/migration.sql, and a client with per-record locks. */
export async function openDatabase(file = 'orders.db') {
  rmSync(file, { force: true })
  const setup = await new PrismaBetterSqlite3({ url: file }).connect()
  await setup.executeScript(readFileSync('prisma/migration.sql', 'utf8'))
  await setup.dispose()

  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) })
  // No `locks` option: the default manager, on the store CACHELOCK_URL names, or in memory.
  return prisma.$extends(lockExtension({ models: { Order: { fence: 'lockFence' } } }))
}
