import { describe, expect, it } from 'vitest'
import { StaleEntityError } from '@cachelock/typeorm'
import type { Env } from '../support/env.js'
import { rejection, unique } from '../support/helpers.js'

/**
 * Issue 13 §5: a save made without the lock, of an entity loaded before a holder wrote the row,
 * would overwrite that holder's work. On a fenced entity it is checked against the fence value the
 * entity was loaded with, and refused once a holder has claimed the row since.
 */
export function unlockedWritesSuite(env: Env) {
  describe('unlocked writes of a fenced entity', () => {
    it('refuse a save or remove of an entity loaded before a locked write; on Product (no fence) the locked write is lost', async () => {
      const cases: [any, boolean][] = [
        [env.repos.fenced, true],
        [env.repos.products, false],
      ]
      for (const [repo, fenced] of cases) {
        const sku = unique()
        await repo.insert({ sku, stock: 10 })
        const loaded: any = await repo.findOneByOrFail({ sku }) // a request reads the row, without the lock
        await repo.withLock(sku, async (row: any, manager: any) => {
          await manager.save(Object.assign(row, { stock: row.stock - 1, note: 'locked' }))
        })
        // ...and saves what it computed from the row as it was.
        loaded.stock += 5
        const saved = await repo.save(loaded).then(
          () => 'saved',
          (error: unknown) => error,
        )
        if (fenced) {
          expect(saved).toBeInstanceOf(StaleEntityError)
          expect(saved).toMatchObject({ code: 'LOCK_STALE_ENTITY', lockName: `fencedProduct:sku:${sku}`, operation: 'update' })
          expect(await rejection(repo.remove(loaded))).toMatchObject({ name: 'StaleEntityError', operation: 'remove' })
          expect(await repo.findOneByOrFail({ sku })).toMatchObject({ stock: 9, note: 'locked' })
        } else {
          expect(saved).toBe('saved')
          expect(await repo.findOneByOrFail({ sku })).toMatchObject({ stock: 15, note: '' }) // the locked write is gone
        }
      }
    })

    it('let through an entity loaded after the locked write, and one that carries no fence value', async () => {
      const sku = unique()
      await env.repos.fenced.insert({ sku, stock: 10 })
      await env.repos.fenced.withLock(sku, (row: any, manager) => manager.save(Object.assign(row, { stock: 9 })))
      const fresh: any = await env.repos.fenced.findOneByOrFail({ sku })
      await env.repos.fenced.save(Object.assign(fresh, { stock: 8 }))
      await env.repos.fenced.save(Object.assign(fresh, { stock: 7 })) // unlocked saves leave the fence as it is
      const partial = await env.repos.fenced.findOneOrFail({ where: { sku }, select: { id: true, sku: true, stock: true } })
      await env.repos.fenced.withLock(sku, (row: any, manager) => manager.save(Object.assign(row, { note: 'locked' })))
      await env.repos.fenced.save(Object.assign(partial, { stock: 6 })) // nothing to check against: written as before
      expect(await env.repos.fenced.findOneByOrFail({ sku })).toMatchObject({ stock: 6, note: 'locked' })
    })
  })
}
