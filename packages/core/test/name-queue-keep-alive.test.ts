import { expect, it } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

/**
 * A store attempt the caller awaits keeps the process alive until it is answered or times out
 * (`storeTimeout`): a script waiting for a lock must not exit with its work undone. Node lists the
 * timers that keep it alive in `process.getActiveResourcesInfo()`; an unref'd timer is not listed.
 */
it('an attempt out keeps the process alive: its storeTimeout timer is ref’d', async () => {
  const store = new FlakyStore()
  store.hanging.add('acquire')
  const locks = createLockManager({ store, storeTimeout: 200 })
  const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length
  const before = timers()
  const waiting = locks.acquire('job').catch((error: unknown) => error)
  expect(timers()).toBe(before + 1)
  expect(await waiting).toMatchObject({ code: 'LOCK_STORE_ERROR' })
})
