import type { Redis } from 'ioredis'
import pg from 'pg'

export interface RoundTrips {
  pg: number
  redis: number
}

/**
 * Round trips per call of `op`, counted where they leave the process: every `pg` client query
 * (Prisma's adapter, `PostgresStore` and raw SQL alike go through `Client.prototype.query`) and
 * every command `redis` sends (`sendCommand`; nothing on these paths is pipelined, so one command
 * is one round trip). The counters are installed only while counting, never while timing.
 */
export async function roundTripsPerCall(op: () => Promise<unknown>, redis: Redis, times: number): Promise<RoundTrips> {
  await op() // connections and prepared statements are set up before counting
  let pgQueries = 0
  let redisCommands = 0
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const query = prototype.query
  prototype.query = function (this: unknown, ...args: unknown[]) {
    pgQueries++
    return query.apply(this, args)
  }
  const sendCommand = redis.sendCommand.bind(redis)
  const counted: Redis['sendCommand'] = (...args) => {
    redisCommands++
    return sendCommand(...args)
  }
  redis.sendCommand = counted
  try {
    for (let i = 0; i < times; i++) await op()
  } finally {
    prototype.query = query
    Reflect.deleteProperty(redis, 'sendCommand')
  }
  return { pg: pgQueries / times, redis: redisCommands / times }
}
