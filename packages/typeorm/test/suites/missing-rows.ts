import { describe, expect, it } from 'vitest'
import type { Env } from '../support/env.js'
import { rejection, sleep, unique } from '../support/helpers.js'

/** Issue 10, part 3: locking a row that does not exist yet (check-then-create). */
export function missingRowsSuite(env: Env) {
  describe("missing: 'allow'", () => {
    it('makes two concurrent check-then-creates produce exactly one row and no unique violation', async () => {
      const other = await env.process()
      const email = `${unique('user')}@example.com`
      const seen: (string | null)[] = []
      const create = (process: typeof other) =>
        process.repos.accounts.withLock(
          { email },
          async (account, manager) => {
            seen.push(account ? account.name : null)
            if (account) return account
            await sleep(20) // the window a racing creator would use
            return manager.save(env.entities.Account, { email, name: 'first' })
          },
          { missing: 'allow' },
        )
      const [a, b] = await Promise.all([create(env), create(other)])
      expect(a.id).toBe(b.id)
      expect(seen).toEqual([null, 'first'])
      expect(await env.repos.accounts.countBy({ email })).toBe(1)
    })

    it('without the lock, the same check-then-create races into a unique violation', async () => {
      const email = `${unique('user')}@example.com`
      const create = async () => {
        const account = await env.repos.accounts.findOneBy({ email })
        if (account) return account
        await sleep(20)
        return env.repos.accounts.save({ email, name: 'first' })
      }
      const outcomes = await Promise.allSettled([create(), create()])
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(1)
    })

    it('still rejects a missing row without it', async () => {
      const error = await rejection(env.repos.accounts.withLock({ email: `${unique('nobody')}@example.com` }, () => undefined))
      expect(error).toBeInstanceOf(env.orm.EntityNotFoundError)
    })

    it('gives null for each missing row of several', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 1 })
      const rows = await env.repos.products.withLock([sku, unique('absent')], async (rows) => rows.map((row) => row?.sku ?? null), {
        missing: 'allow',
      })
      expect(rows).toEqual([sku, null])
    })
  })
}
