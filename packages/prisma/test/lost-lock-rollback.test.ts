import { expect, test } from 'vitest'
import { LockLostError, createLockManager } from '@cachelock/core'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'

/**
 * Issue 13 §3: a lock lost while `fn` is stuck must end its transaction at once. Found with Redis
 * killed under a Prisma `withLock`: the rollback came only when `fn` finished (~21 s later), while
 * the open transaction blocked every other writer (on SQLite, all of them).
 */
onEveryDatabaseAndStore('lost_rollback', (setup) => {
  test('a lock stolen by another manager while fn is stuck rolls back at once: another writer gets through, fn’s later queries are refused', async () => {
    const { db, prisma, locks, store, otherWriter } = setup()
    const otherProcess = otherWriter()
    const { id } = await db.order.create({ data: {} })
    const events: string[] = []
    let resume!: () => void
    const stuck = new Promise<void>((resolve) => (resume = resolve))
    let wrote!: () => void
    const written = new Promise<void>((resolve) => (wrote = resolve))
    let late: unknown
    const fnDone = { promise: undefined as Promise<void> | undefined }
    const work = db.order.withLock(
      id,
      (_, { tx }) =>
        (fnDone.promise = (async () => {
          await tx.order.update({ where: { id }, data: { status: 'stale' } }) // the transaction now blocks writers of the row
          wrote()
          await stuck // a call that hangs: a payment API, a stalled dependency
          events.push('fn resumed')
          late = await tx.order.update({ where: { id }, data: { note: 'late' } }).then(
            () => 'written',
            (error: unknown) => error,
          )
        })()),
      { ttl: 600 },
    )
    const outcome = work.then(
      () => 'committed',
      (error: unknown) => (events.push('withLock rejected'), error),
    )
    await written
    // Another process steals the lock; this holder hears of it at its next renewal (ttl / 3).
    const thief = await createLockManager({ store, prefix: locks.prefix }).acquire(`order:id:${id}`, { steal: true })
    const second = otherProcess.run('UPDATE "Order" SET total = 7 WHERE id = ?', [id]).then(() => events.push('second writer committed'))
    // Bounded so that, without the prompt rollback, the test fails on the order below instead of hanging.
    let fallback: NodeJS.Timeout | undefined
    await Promise.race([second, new Promise((resolve) => (fallback = setTimeout(resolve, 15_000)))])
    clearTimeout(fallback)
    // withLock settles on its own while fn is still stuck (the rollback ends it; it does not wait for
    // fn): wait for that, bounded the same way, before fn is let go.
    await Promise.race([outcome, new Promise((resolve) => (fallback = setTimeout(resolve, 15_000)))])
    clearTimeout(fallback)
    resume()
    await fnDone.promise
    await second
    // Both happened while fn was still stuck.
    expect(events.slice(0, 2).sort()).toEqual(['second writer committed', 'withLock rejected'])
    expect(events[2]).toBe('fn resumed')
    expect(await outcome).toBeInstanceOf(LockLostError)
    expect(late).toBe(await outcome) // the rolled-back transaction refuses fn's later query with the loss
    expect(await prisma.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'new', note: null, total: 7 })
    await thief.release()
    await otherProcess.close()
  })
})
