import type { Redis } from 'ioredis'
import { FENCED_ACQUIRE, FENCED_ACQUIRE_SHA, RELEASE, RELEASE_SHA } from '../subjects/minimal-redis-lock.js'
import { randomToken } from '../subjects/tokens.js'

interface Client {
  $transaction<T>(fn: (tx: { order: { findUnique(args: { where: { id: number } }): Promise<unknown> } }) => Promise<T>): Promise<T>
}

/**
 * The floor of any lock kept outside the database with withLock's guarantees, written by hand: a
 * fenced acquire script, the transaction with an owner check before COMMIT, a compare-and-delete
 * release (3 Redis and 3 PostgreSQL round trips, as withLock). `sequential` acquires, then begins;
 * `beside` sends the acquire beside BEGIN, as withLock does when the lock is likely free.
 */
export async function handRedisLock(redis: Redis, prisma: Client, key: string, id: number) {
  await redis.script('LOAD', FENCED_ACQUIRE)
  await redis.script('LOAD', RELEASE)
  const acquire = async (token: string) => {
    if ((await redis.evalsha(FENCED_ACQUIRE_SHA, 2, key, `${key}:fence`, token, 30_000)) === 0) throw new Error('hand lock: taken')
  }
  const readChecked = async (tx: Parameters<Parameters<Client['$transaction']>[0]>[0], token: string) => {
    const order = await tx.order.findUnique({ where: { id } })
    if ((await redis.get(key)) !== token) throw new Error('hand lock: lost')
    return order
  }
  const release = (token: string) => redis.evalsha(RELEASE_SHA, 1, key, token)
  return {
    sequential: async (): Promise<unknown> => {
      const token = randomToken()
      await acquire(token)
      try {
        return await prisma.$transaction((tx) => readChecked(tx, token))
      } finally {
        await release(token)
      }
    },
    beside: async (): Promise<unknown> => {
      const token = randomToken()
      const acquired = acquire(token)
      acquired.catch(() => undefined) // awaited in the transaction
      try {
        return await prisma.$transaction(async (tx) => {
          await acquired
          return readChecked(tx, token)
        })
      } finally {
        await release(token)
      }
    },
  }
}
