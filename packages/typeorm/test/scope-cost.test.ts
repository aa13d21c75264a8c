import { executionAsyncResource } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { useEnv } from './support/env.js'
import { unique } from './support/helpers.js'

/**
 * Issue 20, "no cost outside the lock": the flow scopes `withLock` keeps (which locks this flow
 * holds, its transaction, a lost lock's refusal) are AsyncLocalStorages, and on Node 20 and 22 an
 * enabled one runs Node's promise hooks for every promise of the process (70 ns each here). They
 * are on only while a `withLock` runs. With promise hooks on, an `await` continuation runs in its
 * promise's resource; without, in the enclosing one.
 */
async function hooksOn(): Promise<boolean> {
  await Promise.resolve()
  return executionAsyncResource() instanceof Promise
}

describe.each([
  { db: 'sqlite' as const, lockIn: undefined },
  { db: 'postgres' as const, lockIn: 'transaction' as const },
])('no promise hook runs outside withLock ($db, lockIn: $lockIn)', ({ db, lockIn }) => {
  const env = useEnv({ line: '1.x', db, store: 'memory' })

  it('on while fn runs, off before and after, and after a nested withLock and a failing one', async () => {
    const app = lockIn ? await env.process({ lockIn }) : env
    const [outer, inner] = [unique(), unique()]
    await app.repos.products.insert([
      { sku: outer, stock: 5 },
      { sku: inner, stock: 5 },
    ])
    expect(await hooksOn()).toBe(false)
    const seen = await app.repos.products.withLock({ sku: outer }, async (product, manager) => {
      await manager.update(env.entities.Product, { sku: outer }, { stock: product.stock - 1 })
      const nested = await app.repos.products.withLock({ sku: inner }, () => hooksOn())
      return [nested, await hooksOn()]
    })
    expect(seen).toEqual([true, true])
    expect(await hooksOn()).toBe(false)
    await expect(
      app.repos.products.withLock({ sku: outer }, () => {
        throw new Error('fn failed')
      }),
    ).rejects.toThrow('fn failed')
    expect(await hooksOn()).toBe(false)
    expect((await app.repos.products.findOneByOrFail({ sku: outer })).stock).toBe(4)
  })
})
