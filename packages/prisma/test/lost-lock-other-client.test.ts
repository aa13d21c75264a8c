import { afterAll, expect, test } from 'vitest'
import { LockLostError, createLockManager, type LockManager, type LockStore } from '@cachelock/core'
import { extendUnfenced, onEveryDatabaseAndStore, type Setup } from './helpers/matrix.js'
import { makeStore } from './helpers/stores.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

/**
 * The lost-lock suite steals through the holder's own manager, which marks the lock lost at once.
 * Another process does not tell this one: only the check with the store before commit can find
 * out. Here a second manager on its own store client (the same Redis server, or the same memory
 * store) steals or force-releases while `fn` runs, and nothing is fenced: the pre-commit check is
 * all that stands between `fn`'s writes and the commit.
 */
onEveryDatabaseAndStore('lost_lock_other', (setup) => {
  const otherStores: LockStore[] = []
  let other: LockStore | undefined
  afterAll(async () => {
    for (const store of otherStores.splice(0)) await store.close?.()
  })

  /** A manager of "another process": its own store client on the same server, the same prefix. */
  async function otherManager({ storeKind, store, locks }: Setup): Promise<LockManager> {
    if (!other) {
      other = storeKind === 'memory' ? store : await makeStore(storeKind)
      if (other !== store) otherStores.push(other)
    }
    return createLockManager({ store: other, prefix: locks.prefix })
  }

  for (const how of ['steals', 'force-releases'] as const) {
    test(`another client ${how} the lock while fn runs: the transaction rolls back`, async () => {
      const current = setup()
      const db = extendUnfenced(current.prisma, current.locks)
      const thief = await otherManager(current)
      const { id } = await db.order.create({ data: {} })
      const name = `order:id:${id}`
      const written = deferred()
      const proceed = deferred()
      let knewLocally: boolean | undefined
      const work = db.order.withLock(id, async (_, { tx, lock }) => {
        await tx.order.update({ where: { id }, data: { status: 'paid' } })
        written.resolve()
        await proceed.promise
        knewLocally = lock.signal.aborted
      })
      work.catch(() => undefined) // awaited below
      const stolen = await takeWhileFnWaits(thief, how, name, written, proceed, work)
      // Nothing told this process before commit: the store check alone caught it.
      expect(knewLocally).toBe(false)
      expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
      await stolen?.release()
    })

    test.each([
      ['the transaction rolls back', true],
      ['without a transaction, withLock still rejects', false],
    ] as const)(
      `withLock on several records, another client ${how} one of their locks (not the first) while fn runs: %s`,
      async (_, inTransaction) => {
        const current = setup()
        const db = extendUnfenced(current.prisma, current.locks)
        const thief = await otherManager(current)
        const ids: number[] = []
        for (let i = 0; i < 3; i++) ids.push((await db.order.create({ data: {} })).id)
        // The pre-commit check of one lock is that lock's own; several are checked together. The
        // one taken from this holder is neither the only one nor the first (locks are taken, and
        // their rows claimed, in the order of their names).
        const name = ids.map((id) => `order:id:${id}`).sort()[1]!
        const written = deferred()
        const proceed = deferred()
        let knewLocally: boolean[] | undefined
        const work = db.order.withLock(
          ids,
          async (orders, { tx, locks }) => {
            for (const { id } of orders) await tx.order.update({ where: { id }, data: { status: 'paid' } })
            written.resolve()
            await proceed.promise
            knewLocally = locks.map((lock) => lock.signal.aborted)
          },
          inTransaction ? {} : { transaction: false },
        )
        work.catch(() => undefined) // awaited below
        const stolen = await takeWhileFnWaits(thief, how, name, written, proceed, work)
        expect(knewLocally).toEqual([false, false, false])
        const rows = await db.order.findMany({ where: { id: { in: ids } } })
        // Without a transaction fn's writes stand: there is nothing to undo, only the loss to report.
        expect(rows.map((row) => row.status)).toEqual(Array(3).fill(inTransaction ? 'new' : 'paid'))
        await stolen?.release()
      },
    )
  }
})

/**
 * Once fn has written, the other client steals or force-releases `name`; then fn goes on, and
 * withLock must reject with the LockLostError of that lock. Resolves the thief's handle, if any.
 */
async function takeWhileFnWaits(
  thief: LockManager,
  how: 'steals' | 'force-releases',
  name: string,
  written: ReturnType<typeof deferred>,
  proceed: ReturnType<typeof deferred>,
  work: Promise<unknown>,
) {
  await written.promise
  const stolen = how === 'steals' ? await thief.acquire(name, { steal: true }) : undefined
  if (!stolen) expect(await thief.forceRelease(name)).toBe(true)
  proceed.resolve()
  await expect(work).rejects.toBeInstanceOf(LockLostError)
  await expect(work).rejects.toMatchObject({ lockName: name })
  return stolen
}
