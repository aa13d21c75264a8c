import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { channelNames, createLockManager, type LockStore } from '@cachelock/core'
import { redisStoreFromUrl } from '@cachelock/core/redis'
import { cutEachRelease, cuttingProxy, type CuttingProxy } from '../../../test/support/cutting-proxy.js'
import { anotherManagers } from './helpers/another-manager.js'
import { extendUnfenced, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { REDIS_URL } from './helpers/stores.js'

/**
 * The store fails the release after `fn`'s transaction committed (Redis ran it, and the reply was
 * lost with the connection): the work is done, so `withLock` resolves with `fn`'s result. A
 * rejection would report committed work as failed, and a caller that retries on a store error
 * would apply it twice.
 */
onEveryDatabaseAndStore(
  'release_cut',
  (setup) => {
    const another = anotherManagers()
    let proxy: CuttingProxy
    let store: LockStore
    const released: { name: string; error?: unknown }[] = []
    const listen = (message: unknown) => void released.push(message as { name: string; error?: unknown })
    beforeAll(async () => {
      proxy = await cuttingProxy(REDIS_URL)
      // maxRetriesPerRequest 0: ioredis fails the command in flight when its connection drops
      // (with retries left it would send the release again after reconnecting).
      const real = redisStoreFromUrl(`redis://127.0.0.1:${proxy.port}`, { redisOptions: { maxRetriesPerRequest: 0 } })
      // Each release's reply is lost with the connection (the release itself runs in Redis).
      store = cutEachRelease(real, proxy)
      diagnostics.subscribe(channelNames.released, listen)
    })
    afterEach(() => void released.splice(0))
    afterAll(async () => {
      diagnostics.unsubscribe(channelNames.released, listen)
      await store?.close?.()
      await proxy?.close()
    })

    test('a release lost after commit: withLock resolves with fn’s result, the update is there once, and the failure is published', async () => {
      const current = setup()
      const locks = createLockManager({ store, prefix: current.locks.prefix })
      const db = extendUnfenced(current.prisma, locks)
      const { id } = await db.order.create({ data: { total: 10 } })
      const result = await db.order.withLock(id, async (order, { tx }) => {
        await tx.order.update({ where: { id }, data: { total: order.total - 1 } })
        return 'sold'
      })
      expect(result).toBe('sold')
      expect((await current.prisma.order.findUniqueOrThrow({ where: { id } })).total).toBe(9)
      // The release did fail, and said so on the channel, with the client's error.
      expect(released).toHaveLength(1)
      expect(released[0]).toMatchObject({ name: `order:id:${id}`, error: expect.any(Error) })
      // Redis ran the release: another process takes the lock at once (ifAvailable rejects if it is taken).
      const other = await another(current)
      const handle = await other.acquire(`order:id:${id}`, { ifAvailable: true })
      await handle.release()
      // And this client works again, on a new connection.
      expect(await db.order.withLock(id, (order) => order.total)).toBe(9)
    })
  },
  { stores: ['redis'] },
)
