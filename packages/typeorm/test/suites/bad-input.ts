import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { withModelLock } from '@cachelock/typeorm'
import type { Env } from '../support/env.js'
import { rejection, unique } from '../support/helpers.js'

/** Bad input gets an `InvalidLockArgumentError` naming the argument, and leaves no lock behind. */
export function badInputSuite(env: Env) {
  describe('bad input', () => {
    it('is rejected with InvalidLockArgumentError naming the argument, with no lock left', async () => {
      const sku = unique()
      await env.repos.products.insert({ sku, stock: 1 })
      const products = env.repos.products as any
      const cases: [Promise<unknown>, string, RegExp?][] = [
        [products.withLock(sku, 'not a function'), 'fn', /Expected `fn` to be a function, got "not a function" \(string\)/],
        [
          products.withLock({ id: 1 }, () => undefined),
          'where',
          /Expected `where` to be \{ sku \} \(how Product rows are locked\) or the sku value itself, got \{ id \}/,
        ],
        [products.withLock({ sku: null }, () => undefined), 'where.sku'],
        [products.withLock([], () => undefined), 'where'],
        [products.withLock([sku, { sku: {} }], () => undefined), 'where[1].sku'],
        [products.withLock(sku, () => undefined, { timout: 5 }), 'options.timout', /known options: .*missing.*timeout.*transaction/],
        [products.withLock(sku, () => undefined, { missing: 'maybe' }), 'options.missing'],
        [products.withLock(sku, () => undefined, { transaction: 'yes' }), 'options.transaction'],
        [products.withLock(sku, () => undefined, { ttl: -5 }), 'options.ttl'],
        [products.withLock(sku, () => undefined, { strictLockOrder: 1 }), 'options.strictLockOrder'],
        [products.lock(sku, { until: 'forever' }), 'options.until'],
        [products.lock(sku, { timeout: 'soon' }), 'options.timeout'],
        [products.isLocked(undefined), 'where'],
        [env.repos.items.withLock('A-1', () => undefined), 'where', /\{ tenant, sku \}/],
        [withModelLock(null as never, () => undefined), 'instance'],
        [
          withModelLock(new env.entities.Product(), () => undefined, { dataSource: env.dataSource }),
          'instance',
          /^Expected `instance` to be an entity with its lock field\(s\) \(sku\) set, to name its Product row, got an instance of Product with sku = undefined$/,
        ],
      ]
      for (const [promise, argument, message] of cases) {
        const error = await rejection(promise)
        expect(error, argument).toBeInstanceOf(InvalidLockArgumentError)
        expect(error.argument).toBe(argument)
        if (message) expect(error.message).toMatch(message)
      }
      expect(await env.repos.products.isLocked(sku)).toBe(false)
      expect((await env.locks.query()).held).toEqual([])
    })
  })
}
