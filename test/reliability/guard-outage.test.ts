import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'
import { DataSource, EntitySchema } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { LockError, createLockManager, type LockManager } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { LockModel, LockedRowError, installModelLocks } from '@cachelock/typeorm'
import { REDIS_URL, uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { withServerDown } from './support/services.js'
import { nowMs, timed } from './support/timing.js'

vi.setConfig({ testTimeout: 120_000 })

/**
 * Issue 13, the guard's side of §2: with Redis stopped, every save of a `@LockModel` entity waited
 * for the store client's own timeout (10 s) inside its open transaction, holding a pool
 * connection; 15 of them made an unrelated read wait 6.7 s. The guard's check is now bounded by
 * `guardTimeout`, and a write it cannot check is refused (fail closed).
 *
 * The Redis client is configured as an app's usually is (`new Redis(url)`: commands queue while it
 * reconnects), so the store does not fail fast by itself: only the guard's deadline bounds the save.
 */
const PG_URL = process.env['CACHELOCK_TEST_PG_URL'] ?? 'postgresql://postgres@127.0.0.1:5439/cachelock_test'
const SAVES = 15
const POOL = 10
const GUARD_TIMEOUT = 1000

class Item {
  id!: number
  sku!: string
  stock!: number
}
LockModel('sku')(Item)
const ItemSchema = new EntitySchema<Item>({
  name: 'Item',
  target: Item,
  columns: {
    id: { type: Number, primary: true, generated: true },
    sku: { type: String, unique: true },
    stock: { type: Number },
  },
})
/** Not locked: what an unrelated request reads. */
const NoteSchema = new EntitySchema<{ id: number; text: string }>({
  name: 'Note',
  columns: { id: { type: Number, primary: true, generated: true }, text: { type: String } },
})

const schema = `guard_outage_${randomUUID().replaceAll('-', '')}`
let dataSource: DataSource
let redis: Redis
let locks: LockManager

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA "${schema}"`)
  await admin.end()
  redis = new Redis(REDIS_URL)
  redis.on('error', () => undefined) // as an app's client has: reconnection errors are expected here
  locks = createLockManager({ store: new RedisStore(redis), prefix: uniquePrefix('guard') })
  dataSource = new DataSource({
    type: 'postgres',
    url: PG_URL,
    schema,
    entities: [ItemSchema, NoteSchema],
    synchronize: true,
    extra: { max: POOL },
  })
  installModelLocks(dataSource, { locks, guardTimeout: GUARD_TIMEOUT })
  await dataSource.initialize()
  await dataSource.getRepository(NoteSchema).save({ text: 'unrelated' })
})

afterAll(async () => {
  await dataSource?.destroy()
  redis?.disconnect()
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin.end()
})

describe('the guard during a Redis outage', () => {
  test(`${SAVES} saves fail closed within guardTimeout, each with a LockError and its cause; an unrelated read is not starved`, async () => {
    const items = dataSource.getRepository(ItemSchema)
    const rows = await items.save(Array.from({ length: SAVES }, (_, i) => ({ sku: `sku-${i}`, stock: 10 })))
    // Healthy: the guard passes a write nobody locked, and refuses one somebody did.
    await items.save({ ...rows[0]!, stock: 9 })
    const held = await locks.acquire('item:sku:sku-1')
    await expect(items.save({ ...rows[1]!, stock: 9 })).rejects.toBeInstanceOf(LockedRowError)
    await held.release()
    const readBefore = await timed(dataSource.getRepository(NoteSchema).find())

    await withServerDown({ kind: 'redis', url: REDIS_URL }, async ({ stop, start }) => {
      await stop()
      const started = nowMs()
      const saves = rows.map((row) => timed(items.save({ ...row, stock: 0 })))
      // The unrelated request arrives once the saves hold every pooled connection and more wait.
      const pool = (dataSource.driver as unknown as { master: pg.Pool }).master
      await vi.waitFor(() => expect(pool.waitingCount).toBeGreaterThan(0), { timeout: 30_000, interval: 5 })
      const read = timed(dataSource.getRepository(NoteSchema).find())
      const outcomes = await Promise.all(saves)
      const readDuring = await read

      for (const outcome of outcomes) {
        expect(outcome.ok).toBe(false)
        const error = (outcome as { error: unknown }).error
        expect(error).toBeInstanceOf(LockError)
        expect(error).not.toBeInstanceOf(LockedRowError)
        expect(error).toMatchObject({ code: 'LOCK_STORE_ERROR', message: expect.stringContaining('the guard could not check') })
        // The guard's own deadline ended the wait, not the client's 10 s command timeout.
        expect((error as LockError).cause).toMatchObject({ name: 'TimeoutError' })
      }
      expect(readDuring.ok).toBe(true)
      report('guard-outage', {
        saves: SAVES,
        pool: POOL,
        guardTimeoutMs: GUARD_TIMEOUT,
        slowestSaveMs: Math.round(Math.max(...outcomes.map((outcome) => outcome.ms))),
        allFailedAfterMs: Math.round(nowMs() - started),
        unrelatedReadMs: Math.round(readDuring.ms),
        unrelatedReadHealthyMs: Math.round(readBefore.ms),
      })

      await start()
    })
    // Nothing was written while the guard could not check.
    expect((await items.find()).filter((row) => row.stock === 0)).toEqual([])
    // Recovered: the same save goes through once the client has reconnected.
    await vi.waitFor(() => items.save({ ...rows[2]!, stock: 8 }), { timeout: 30_000, interval: 200 })
    expect((await items.findOneByOrFail({ sku: 'sku-2' })).stock).toBe(8)
  })
})
