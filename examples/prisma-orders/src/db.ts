import { readFileSync, rmSync } from 'node:fs'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { configure } from '@cachelock/core'
import { lockExtension } from '@cachelock/prisma'
import { PrismaClient } from '../generated/prisma/client.ts'

/** A fresh SQLite database with the tables of prisma/migration.sql, and a client with per-record locks. */
export async function openDatabase(file = 'orders.db') {
  rmSync(file, { force: true })
  const setup = await new PrismaBetterSqlite3({ url: file }).connect()
  await setup.executeScript(readFileSync('prisma/migration.sql', 'utf8'))
  await setup.dispose()

  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) })
  // The default manager: on the store CACHELOCK_URL names, else in this process's memory, chosen on
  // purpose (this demo is one process). An app with several processes sets CACHELOCK_URL.
  configure({ store: process.env.CACHELOCK_URL || 'memory://' })
  return prisma.$extends(lockExtension({ models: { Order: { fence: 'lockFence' } } }))
}
