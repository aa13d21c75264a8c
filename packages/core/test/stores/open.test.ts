import { describe, expect, it } from 'vitest'
import { OpenStore, createLockManager } from '@cachelock/core'
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
})
