import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLockManager, LockError, LockLostError, type LockManager } from '@cachelock/core'
import { redisStoreFromUrl, type RedisStore } from '@cachelock/core/redis'
import { useEnv } from './support/env.js'
import { deferred, rejection, unique } from './support/helpers.js'
import { startOwnRedis, type OwnRedis } from './support/own-redis.js'
import { ticketId, useTickets, type TicketProcess } from './support/tickets.js'

/**
 * The guard and the fence while the lock store does not answer: a Redis server of this file's own,
 * frozen (SIGSTOP). Fail closed where the store must be asked; where it need not be (the holder's
 * own write), the write does not wait for it.
 */
describe('the guard and the fence with a frozen Redis (SQLite)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  const tickets = useTickets(env)
  const GUARD_TIMEOUT = 200
  let redis: OwnRedis
  const stores: RedisStore[] = []
  const prefix = `typeorm-outage:${unique()}:`
  /** A manager on the frozen-able Redis; the store's own deadline is well past the guard's. */
  const manager = (): LockManager => {
    const store = redisStoreFromUrl(redis.url)
    stores.push(store)
    return createLockManager({ store, prefix, storeTimeout: 2000 })
  }
  let a: TicketProcess
  let b: TicketProcess

  beforeAll(async () => {
    redis = await startOwnRedis()
    a = await tickets.process({ locks: manager(), guardTimeout: GUARD_TIMEOUT })
    b = await tickets.process({ locks: manager(), guardTimeout: GUARD_TIMEOUT })
  })
  afterAll(async () => {
    redis?.thaw()
    for (const store of stores) await store.close?.()
    await redis?.stop()
  })
  const frozen = async <T>(body: () => Promise<T>): Promise<T> => {
    await redis.freeze()
    try {
      return await body()
    } finally {
      redis.thaw()
    }
  }
  const create = async () => {
    const code = unique('T')
    await a.tickets.insert({ id: ticketId(), code, stock: 1 })
    return code
  }

  it('refuses a write it cannot check within guardTimeout with a LockError naming the lock, the cause a TimeoutError', async () => {
    const code = await create()
    const loaded = await a.tickets.findOneByOrFail({ code })
    const error = await frozen(() => rejection(a.tickets.save(Object.assign(loaded, { stock: 0 }))))
    expect(error).toBeInstanceOf(LockError)
    expect(error).toMatchObject({ code: 'LOCK_STORE_ERROR' })
    expect(error.message).toBe(
      `Cannot update Ticket: the guard could not check lock "ticket:code:${code}" (The lock store did not answer within ` +
        `${GUARD_TIMEOUT} ms (guardTimeout)). Nothing was written; a write the guard cannot check is refused (it might overwrite ` +
        'a holder’s work).',
    )
    expect(error.cause).toBeInstanceOf(DOMException)
    expect(error.cause).toMatchObject({
      name: 'TimeoutError',
      message: `The lock store did not answer within ${GUARD_TIMEOUT} ms (guardTimeout)`,
    })
    expect(await a.tickets.findOneByOrFail({ code })).toMatchObject({ stock: 1 })
  })

  it('lets the holder’s own write through without asking the store', async () => {
    const code = await create()
    await a.tickets.withLock(
      code,
      async (row, m) => {
        await frozen(() => m.save(Object.assign(row, { stock: 4 })))
      },
      { transaction: false, autoExtend: false, ttl: 30_000 },
    )
    expect(await a.tickets.findOneByOrFail({ code })).toMatchObject({ stock: 4 })
  })

  it('a write of a holder overtaken on the row, whose store cannot say how, fails with the store’s LockError', async () => {
    const code = await create()
    const [holding, go] = [deferred(), deferred()]
    let write: unknown
    const stale = a.tickets.withLock(
      code,
      async (_row, m) => {
        holding.resolve()
        await go.promise
        write = await frozen(() => rejection(m.update(tickets.Ticket, { code }, { stock: 0 })))
      },
      { transaction: false, autoExtend: false, ttl: 30_000 },
    )
    await holding.promise
    await b.tickets.withLock(code, (row, m) => m.save(Object.assign(row, { stock: 2 })), { steal: true })
    go.resolve()
    await stale.catch(() => undefined)
    expect(write).toBeInstanceOf(LockError)
    expect(write).not.toBeInstanceOf(LockLostError)
    expect(write).toMatchObject({ code: 'LOCK_STORE_ERROR' })
    expect(await a.tickets.findOneByOrFail({ code })).toMatchObject({ stock: 2 })
  })
})

describe('the guard’s deadline timer (SQLite, memory store)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  const tickets = useTickets(env)
  const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length

  it('is cleared once the store answered: a checked write leaves nothing keeping the process alive', async () => {
    const a = await tickets.process({ guardTimeout: 60_000 })
    const code = unique('T')
    await a.tickets.insert({ id: ticketId(), code, stock: 1 })
    const loaded = await a.tickets.findOneByOrFail({ code })
    const before = timers()
    await a.tickets.save(Object.assign(loaded, { stock: 2 }))
    expect(timers()).toBe(before)
  })
})
