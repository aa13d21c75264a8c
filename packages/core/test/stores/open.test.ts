import { describe, expect, it } from 'vitest'
import { OpenStore, createLockManager, type LockStore } from '@cachelock/core'
import { lockStoreContract } from '@cachelock/core/testing'

lockStoreContract({ describe, it }, 'OpenStore', () => new OpenStore(), { exclusive: false })

describe('OpenStore', () => {
  it('lets two holders in at once (it never locks)', async () => {
    const locks = createLockManager({ store: new OpenStore() })
    const a = await locks.acquire('x')
    const b = await locks.acquire('x', { timeout: 0 })
    expect(b.fencingToken).toBeGreaterThan(a.fencingToken)
    await a.release()
    await b.release()
  })

  it('answers as if every lock were released at once and never expired, and shows no holder', async () => {
    const store: LockStore = new OpenStore()
    expect(await store.release('k', 'a')).toBe(true)
    expect(await store.extend('k', 'a', 1000)).toBe(true)
    expect(await store.forceRelease('k')).toBe(false)
    expect(await store.holders('k')).toEqual([])

    const locks = createLockManager({ store })
    const held = await locks.acquire('x')
    await held.extend(60_000)
    expect(await locks.isLocked('x')).toBe(false)
    await held.release()
  })
})
