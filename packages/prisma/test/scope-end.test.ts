import { getEventListeners } from 'node:events'
import { expect, test } from 'vitest'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'
import { sleep } from './helpers/stores.js'

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length

/**
 * A `withLock` watches its locks while its transaction lives, and only then: when it ends, it lets
 * go of every listener it put on a lock's signal, and work `fn` left behind (a timer, a detached
 * promise) writes as any other code does.
 */
onEveryDatabaseAndStore('scope_end', (setup) => {
  test('nested calls on the same record add no listener to its lock: a loop of them inside fn does not pile up', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    await db.order.withLock(id, async (_, { lock }) => {
      const before = abortListeners(lock.signal)
      for (let i = 0; i < 12; i++) await db.order.withLock(id, (again) => again.id)
      await Promise.all([db.order.withLock(id, () => 1), db.order.withLock(id, () => 2)])
      expect(abortListeners(lock.signal)).toBe(before)
    })
  })

  test('a lock that outlives withLock (a lock() handle, reused inside handle.run) keeps no listener of it', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    const handle = await db.order.lock(id)
    const before = abortListeners(handle.signal)
    await handle.run(async () => {
      for (let i = 0; i < 12; i++) await db.order.withLock(id, (_, { lock }) => expect(lock).toBe(handle))
    })
    expect(abortListeners(handle.signal)).toBe(before)
    await handle.release()
  })

  test('work fn left behind writes after withLock returned: as any write, not into the ended transaction', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    let late: Promise<unknown> | undefined
    await db.order.withLock(id, async (_, { tx }) => {
      await tx.order.update({ where: { id }, data: { status: 'paid' } })
      // Detached: an audit note sent after the response, say. It inherits fn's async context.
      late = sleep(30).then(() => db.order.update({ where: { id }, data: { note: 'audited' } }))
    })
    await expect(late).resolves.toMatchObject({ id, status: 'paid', note: 'audited' })
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'paid', note: 'audited' })
  })
})
