import { afterEach, describe, expect, test } from 'vitest'
import { LockError, createLockManager, type LockManager } from '../../../src/index.js'
import { relay, type Relay } from '../../../../../test/support/relay.js'
import { REDIS_URL, uniqueKey } from './helpers.js'

/**
 * A release the store failed (the connection was down) is tried again in the background, so the
 * lock is free once Redis can be reached again, not only after its ttl. Here the holder reaches
 * Redis through a relay that goes away for a moment, as a network blip or a failover would do it.
 */
const managers: LockManager[] = []
let link: Relay | undefined

afterEach(async () => {
  await Promise.all(managers.splice(0).map((locks) => locks.close()))
  await link?.close()
  link = undefined
})

describe('a release the store failed', () => {
  test('is tried again once the store answers: the lock is free long before its ttl', async () => {
    // Down: its port refuses connections, as an unreachable server's does.
    link = await relay(REDIS_URL)
    const prefix = `${uniqueKey('release-retry')}:`
    const holder = createLockManager({ store: `redis://127.0.0.1:${link.port}`, prefix, ttl: 30_000 })
    const other = createLockManager({ store: REDIS_URL, prefix })
    managers.push(holder, other)
    const handle = await holder.acquire('order:1')

    await link.down()
    const error = await handle.release().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect(await other.isLocked('order:1')).toBe(true)
    const upAt = performance.now()
    await link.up()

    // Without the retry the lock stays until its ttl (30 s).
    let taken = false
    while (!taken && performance.now() - upAt < 10_000) {
      const lock = await other.tryAcquire('order:1')
      if (lock) {
        taken = true
        await lock.release()
      } else await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(taken).toBe(true)
  })
})
