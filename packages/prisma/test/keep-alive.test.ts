import { expect, test } from 'vitest'
import type { LockHandle } from '@cachelock/core'
import { keepAliveServer, reply, until } from './helpers/http.js'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'

/**
 * Issue 13 §1, the shape it was found in: a handler that takes `db.model.lock()` must not make the
 * next request on the same keep-alive connection its holder (Node runs a bodiless request's
 * handler from the connection's HTTP parser, an async resource every later request on it shares).
 */
onEveryDatabaseAndStore('keep_alive', (setup) => {
  test('lock() does not make the next request on the same connection the holder: its withLock waits', async () => {
    const { db, locks } = setup()
    const { id } = await db.order.create({ data: {} })
    let held: LockHandle | undefined
    let ran = false
    const server = await keepAliveServer((request, response) => {
      if (request.url === '/hold')
        // Keeps the handle after responding, as a handler that releases it later would.
        reply(
          response,
          db.order.lock(id).then((handle) => ((held = handle), 'held')),
        )
      else
        reply(
          response,
          db.order.withLock(id, (_, { tx }) => ((ran = true), tx.order.update({ where: { id }, data: { status: 'paid' } }))),
        )
    })
    try {
      expect(await server.send('/hold')).toMatchObject({ status: 200, body: 'held' })
      let answered = false
      const second = server.send('/pay').finally(() => (answered = true))
      await until(
        async () => answered || (await locks.query()).pending.some((request) => request.name === held!.name),
        'the withLock request to queue or answer',
      )
      expect(answered).toBe(false)
      expect(ran).toBe(false)
      await held!.release()
      expect(await second).toMatchObject({ status: 200, reusedSocket: true })
      expect(ran).toBe(true)
      expect(server.connectionCount()).toBe(1)
      expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('paid')
    } finally {
      if (held?.held) await held.release()
      await server.close()
    }
  })
})
