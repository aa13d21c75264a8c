import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channelNames, createLockManager, type LockStore } from '@cachelock/core'
import { redisStoreFromUrl } from '@cachelock/core/redis'
import { cutEachRelease, cuttingProxy, type CuttingProxy } from '../../../test/support/cutting-proxy.js'
import { REDIS_URL, useEnv, type DatabaseKind } from './support/env.js'
import { recordEvents, unique } from './support/helpers.js'
import { ticketId, useTickets, type TicketProcess } from './support/tickets.js'

/**
 * The store fails the release after `fn`'s transaction committed (Redis ran it, and the reply was
 * lost with the connection): the work is done, so `withLock` resolves with `fn`'s result. A
 * rejection would report committed work as failed, and a caller that retries on a store error
 * would apply it twice.
 */
describe.each<DatabaseKind>(['postgres', 'sqlite'])('a release lost after commit (%s, Redis)', (db) => {
  const env = useEnv({ line: '1.x', db, store: 'redis' })
  const tickets = useTickets(env)
  let proxy: CuttingProxy
  let store: LockStore
  let app: TicketProcess
  const prefix = `typeorm-release-cut:${unique()}:`

  beforeAll(async () => {
    proxy = await cuttingProxy(REDIS_URL)
    // maxRetriesPerRequest 0: ioredis fails the command in flight when its connection drops
    // (with retries left it would send the release again after reconnecting).
    const real = redisStoreFromUrl(`redis://127.0.0.1:${proxy.port}`, { redisOptions: { maxRetriesPerRequest: 0 } })
    // Each release's reply is lost with the connection (the release itself runs in Redis).
    store = cutEachRelease(real, proxy)
    app = await tickets.process({ locks: createLockManager({ store, prefix }) })
  })
  afterAll(async () => {
    await store?.close?.()
    await proxy?.close()
  })

  it('withLock resolves with fn’s result, the update is there once, and the failure is published', async () => {
    const code = unique('T')
    await app.tickets.insert({ id: ticketId(), code, stock: 10 })
    const { events, result } = await recordEvents(channelNames.released, () =>
      app.tickets.withLock(code, async (row, manager) => {
        await manager.save(Object.assign(row, { stock: row.stock - 1 }))
        return 'sold'
      }),
    )
    expect(result).toBe('sold')
    expect(await app.tickets.findOneByOrFail({ code })).toMatchObject({ stock: 9 })
    // The release did fail, and said so on the channel, with the client's error.
    expect(events).toEqual([expect.objectContaining({ error: expect.any(Error) })])
    // Redis ran the release: another process takes the lock at once (ifAvailable rejects if it is taken).
    const other = createLockManager({ store: env.store, prefix })
    const handle = await other.acquire(events[0].name, { ifAvailable: true })
    await handle.release()
    // And this process works again, on a new connection.
    expect(await app.tickets.withLock(code, (row) => row.stock)).toBe(9)
  })
})
