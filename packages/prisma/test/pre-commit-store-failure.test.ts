import { expect, test } from 'vitest'
import { LockError, LockLostError, MemoryStore } from '@cachelock/core'
import { extendUnfenced, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { managerOn } from './helpers/stores.js'

/**
 * The check before commit asks the store whether each lock is still held. A store that cannot
 * answer is not a "yes": nothing marks the lock lost (the store may come back and the lock with
 * it), so the rollback rests on the check's own error, for one lock as for several.
 */
onEveryDatabaseAndStore(
  'precommit_store',
  (setup) => {
    for (const count of [1, 3]) {
      test(`the store cannot answer the pre-commit check of ${count === 1 ? 'the lock' : `one of ${count} locks (the last)`}: the transaction rolls back with its LockError`, async () => {
        const { prisma } = setup()
        const store = new (class extends MemoryStore {
          /** The key whose owner checks fail, as a store that stopped answering would. */
          failing: string | undefined
          override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
            return key === this.failing ? Promise.reject(new Error('store unreachable')) : super.extend(key, owner, ttlMs)
          }
        })()
        const locks = managerOn(store)
        const db = extendUnfenced(prisma, locks)
        const ids: number[] = []
        for (let i = 0; i < count; i++) ids.push((await db.order.create({ data: {} })).id)
        const name = ids.map((id) => `order:id:${id}`).sort()[count - 1]!
        let lost: boolean[] | undefined
        const work = db.order.withLock(ids, async (orders, { tx, locks: held }) => {
          for (const { id } of orders) await tx.order.update({ where: { id }, data: { status: 'paid' } })
          store.failing = locks.prefix + name
          lost = held.map((lock) => lock.signal.aborted)
        })
        const error = await work.then(
          () => expect.unreachable('committed'),
          (caught: unknown) => caught,
        )
        expect(error).toBeInstanceOf(LockError)
        expect(error).not.toBeInstanceOf(LockLostError)
        expect((error as Error).cause).toMatchObject({ message: 'store unreachable' })
        expect(lost).toEqual(Array(count).fill(false))
        const rows = await db.order.findMany({ where: { id: { in: ids } } })
        expect(rows.map((row) => row.status)).toEqual(Array(count).fill('new'))
        // Released however the check ended: another holder gets every lock at once.
        store.failing = undefined
        for (const id of ids) await (await locks.acquire(`order:id:${id}`, { ifAvailable: true })).release()
      })
    }
  },
  { stores: ['memory'] },
)
