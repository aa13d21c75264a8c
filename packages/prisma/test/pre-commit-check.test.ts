import { expect, test } from 'vitest'
import { LockError, LockLostError, MemoryStore, type LockHandle } from '@cachelock/core'
import { extendUnfenced, onEveryDatabaseAndStore } from './helpers/matrix.js'
import { managerOn } from './helpers/stores.js'

/**
 * The check before commit asks the store whether each lock is still held. A store that cannot
 * answer is not a "yes": nothing marks the lock lost (the store may come back and the lock with
 * it), so the rollback rests on the check's own error, for one lock as for several. And a lock
 * lost while the check of another is out is lost, even if every answer the check got was "held".
 */
onEveryDatabaseAndStore(
  'precommit_check',
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

    test('a lock lost after its check passed, while the check of another is out: the transaction rolls back', async () => {
      const { prisma } = setup()
      const store = new (class extends MemoryStore {
        /** Run before the store answers the owner check of `key`. */
        before: { key: string; run: () => Promise<unknown> } | undefined
        override async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
          const answer = await super.extend(key, owner, ttlMs)
          const before = this.before
          if (key === before?.key) {
            this.before = undefined
            await before.run()
          }
          return answer
        }
      })()
      const locks = managerOn(store)
      const db = extendUnfenced(prisma, locks)
      const ids = [(await db.order.create({ data: {} })).id, (await db.order.create({ data: {} })).id]
      const [first, last] = ids.map((id) => `order:id:${id}`).sort() as [string, string]
      let stolen: LockHandle | undefined
      const work = db.order.withLock(ids, async (orders, { tx }) => {
        for (const { id } of orders) await tx.order.update({ where: { id }, data: { status: 'paid' } })
        // The first lock's check has passed when the last one's is answered; before that answer
        // (in the same turn, as two replies read from one socket are) the first is stolen here,
        // which this process hears of at once.
        store.before = { key: locks.prefix + last, run: async () => (stolen = await locks.acquire(first, { steal: true })) }
      })
      const error = await work.then(
        () => expect.unreachable('committed'),
        (caught: unknown) => caught,
      )
      expect(stolen).toBeDefined()
      expect(error).toBeInstanceOf(LockLostError)
      expect(error).toMatchObject({ lockName: first })
      const rows = await db.order.findMany({ where: { id: { in: ids } } })
      expect(rows.map((row) => row.status)).toEqual(['new', 'new'])
      await stolen!.release()
    })
  },
  { stores: ['memory'] },
)
