import { describe, expect, it } from 'vitest'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { LockedRowError } from '@cachelock/typeorm'
import { IsNull, Not } from 'typeorm'
import { useEnv } from './support/env.js'
import { rejection, unique } from './support/helpers.js'

/**
 * The entity events the subscriber guards, as users meet them: which writes reach the guard, under
 * which operation name, and by which key (the row as loaded, as well as the values being written).
 */
describe('the guarding subscriber (TypeORM 1.x on SQLite, memory store)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })

  const holdElsewhere = (sku: string) => env.manager().acquire(recordLockName('product', { sku }))

  it('refuses to recover a soft-removed row another holder has locked, naming the operation', async () => {
    const sku = unique()
    const product = await env.repos.products.save({ sku, stock: 5 })
    await env.repos.products.softRemove(product)
    const removed = await env.repos.products.findOneOrFail({ where: { sku, deletedAt: Not(IsNull()) }, withDeleted: true })
    const other = await holdElsewhere(sku)
    try {
      const error = await rejection(env.repos.products.recover(removed))
      expect(error).toBeInstanceOf(LockedRowError)
      expect(error).toMatchObject({
        operation: 'recover',
        message: `Cannot recover Product: its lock "product:sku:${sku}" is held by another holder. Nothing was written; take the lock (withLock) before writing.`,
      })
    } finally {
      await other.release()
    }
    expect(await env.repos.products.findOneBy({ sku })).toBeNull() // still removed
    await env.repos.products.recover(removed) // and recoverable once the lock is free
    expect(await env.repos.products.findOneBy({ sku })).not.toBeNull()
  })

  it('checks the key the row had when loaded: renaming a locked row is refused', async () => {
    const [sku, renamed] = [unique(), unique()]
    await env.repos.products.insert({ sku, stock: 5 })
    const other = await holdElsewhere(sku)
    try {
      const product = await env.repos.products.findOneByOrFail({ sku })
      const error = await rejection(env.repos.products.save(Object.assign(product, { sku: renamed })))
      expect(error).toBeInstanceOf(LockedRowError)
      expect(error.lockName).toBe(`product:sku:${sku}`)
    } finally {
      await other.release()
    }
    expect(await env.repos.products.findOneBy({ sku: renamed })).toBeNull()
  })

  it('does not guard an update by criteria, even when its values name a locked row (documented: no row is loaded)', async () => {
    const sku = unique()
    await env.repos.products.insert({ sku, stock: 5 })
    const other = await holdElsewhere(sku)
    try {
      await env.repos.products.update({ sku }, { sku, stock: 4 })
    } finally {
      await other.release()
    }
    expect((await env.repos.products.findOneByOrFail({ sku })).stock).toBe(4)
  })
})
