import { expect, it, vi } from 'vitest'
import { createLockManager, type Granted } from '@cachelock/core'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * A name whose only business left is an attempt out (its request gave up) is still kept: the
 * manager must not start a second queue for it, whose requests would then go out beside that
 * attempt instead of after it.
 */
it('a name with an attempt out is kept when a steal of it fails, and the next request waits for that attempt', async () => {
  const store = new ScriptedStore()
  let failSteal: ((error: Error) => void) | undefined
  store.steal = () => new Promise<Granted>((_, reject) => (failSteal = reject))
  const locks = createLockManager({ store })
  const steal = locks.acquire('job', { steal: true }).catch((error: unknown) => error)
  const controller = new AbortController()
  const gaveUp = locks.acquire('job', { signal: controller.signal })
  controller.abort(new Error('gave up'))
  await expect(gaveUp).rejects.toThrow('gave up')
  await vi.waitFor(() => expect(failSteal).toBeDefined())
  failSteal!(new Error('connection lost during steal'))
  expect(await steal).toMatchObject({ code: 'LOCK_STORE_ERROR' })
  // A turn for the manager to forget the names that went idle: this one must not be among them.
  await new Promise((resolve) => setImmediate(resolve))
  const next = locks.acquire('job')
  expect(store.requests).toHaveLength(1)
  store.hold = () => false
  store.held[0]!.pass()
  await (await next).release()
  expect(store.requests).toHaveLength(2)
})
