import { afterAll, beforeAll, expect, test } from 'vitest'
import { Redis } from 'ioredis'
import { LockLostError } from '@cachelock/core'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { REDIS_URL, sleep } from './helpers/stores.js'

/**
 * Fenced writes with Redis's fencing counter ahead of Redis's clock (after the clock stepped back,
 * or a failover to a replica whose clock is behind). Tokens then come from the counter alone, and
 * the fence holds only if no two grants share one: the stale holder's write must still be refused.
 */
onEveryDatabaseAndStore(
  'fence_counter_ahead',
  (setup) => {
    let raw: Redis
    beforeAll(() => {
      raw = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
    })
    afterAll(async () => {
      await raw.quit()
    })

    test('a stale holder’s write is refused, and the newer holder’s write survives', async () => {
      const { db, locks } = setup()
      const { id } = await db.order.create({ data: {} })
      // RedisStore's counter key for this lock (see core's stores/redis/keys.ts), 10^12 µs ahead.
      const ahead = Date.now() * 1000 + 1e12
      await raw.set(`{${locks.prefix}order:id:${id}}:f`, String(ahead), 'PX', 60_000)

      const tokens: number[] = []
      const a = db.order.withLock(
        id,
        async (order, { tx, lock }) => {
          tokens.push(lock.fencingToken)
          await sleep(300) // a stall longer than the ttl
          await tx.order.update({ where: { id }, data: { status: 'written by A', total: order.total + 1 } })
        },
        { ttl: 100, autoExtend: false, transaction: false },
      )
      a.catch(() => undefined) // awaited below
      await sleep(20)
      await db.order.withLock(id, async (order, { tx, lock }) => {
        tokens.push(lock.fencingToken)
        await tx.order.update({ where: { id }, data: { status: 'written by B', total: order.total + 10 } })
      })

      await expect(a).rejects.toBeInstanceOf(LockLostError)
      expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'written by B', total: 10 })
      expect(tokens[0]).toBeGreaterThan(ahead)
      expect(tokens[1]).toBeGreaterThan(tokens[0]!)
    })
  },
  { stores: ['redis'] },
)
