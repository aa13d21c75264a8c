import { describe, expect, it } from 'vitest'
import type { LockHandle } from '@cachelock/core'
import { LockedRowError } from '@cachelock/typeorm'
import type { Env } from '../support/env.js'
import { unique } from '../support/helpers.js'
import { keepAliveServer, reply, until } from '../support/http.js'

/**
 * Issue 13 §1, the shape it was found in: a handler that takes `lock()` must not make the next
 * request on the same keep-alive connection the holder (Node runs a bodiless request's handler
 * from the connection's HTTP parser, an async resource every later request on it shares).
 */
export function keepAliveSuite(env: Env) {
  describe('lock() on a keep-alive connection', () => {
    it('does not make the next request on the same connection the holder: the guard refuses it, withLock waits', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 5 })
      const { products } = env.repos
      let held: LockHandle | undefined
      let withLockRan = false
      const server = await keepAliveServer((request, response) => {
        if (request.url === '/hold')
          // Keeps the handle after responding, as a handler that releases it later would.
          reply(
            response,
            products.lock({ sku }).then((handle) => ((held = handle), 'held')),
          )
        else if (request.url === '/save')
          reply(
            response,
            products.findOneByOrFail({ sku }).then((product) => products.save({ ...product, stock: 0 })),
            (error) => (error instanceof LockedRowError ? 423 : 500),
          )
        else
          reply(
            response,
            products.withLock(sku, () => (withLockRan = true)),
          )
      })
      try {
        expect(await server.send('/hold')).toMatchObject({ status: 200, body: 'held' })
        const save = await server.send('/save')
        expect(save.reusedSocket).toBe(true)
        expect(save).toMatchObject({ status: 423, body: expect.stringContaining('LockedRowError') })
        expect((await products.findOneByOrFail({ sku })).stock).toBe(5)

        let answered = false
        const withLock = server.send('/with-lock').finally(() => (answered = true))
        await until(
          async () => answered || (await env.locks.query()).pending.some((request) => request.name === held!.name),
          'the withLock request to queue or answer',
        )
        expect(answered).toBe(false)
        expect(withLockRan).toBe(false)
        await held!.release()
        expect(await withLock).toMatchObject({ status: 200, reusedSocket: true })
        expect(withLockRan).toBe(true)
        expect(server.connectionCount()).toBe(1)
      } finally {
        if (held?.held) await held.release()
        await server.close()
      }
    })
  })
}
