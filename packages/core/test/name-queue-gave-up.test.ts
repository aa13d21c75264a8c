import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { channelNames } from '../src/events.js'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * A grant that reaches the queue after its request gave up (aborted, timed out) goes straight back
 * to the store: nobody ever held it, so no lock event reports it held or released.
 */

const events: { channel: string; clientId: string }[] = []
const listeners = (['acquired', 'released'] as const).map((channel) => {
  const listener = (message: unknown) => events.push({ channel, clientId: (message as { clientId: string }).clientId })
  diagnostics.subscribe(channelNames[channel], listener)
  return () => diagnostics.unsubscribe(channelNames[channel], listener)
})
afterEach(() => {
  events.length = 0
})
afterAll(() => listeners.forEach((unsubscribe) => unsubscribe()))

describe('a grant for a request that gave up', () => {
  it('is released in the store without any lock event', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store })
    const controller = new AbortController()
    const aborted = locks.acquire('job', { signal: controller.signal })
    controller.abort(new Error('gave up'))
    await expect(aborted).rejects.toThrow('gave up')
    store.held[0]!.pass()
    store.hold = () => false
    const other = createLockManager({ store })
    await vi.waitFor(async () => expect(await other.isLocked('job')).toBe(false))
    expect(events.filter((event) => event.clientId === locks.clientId)).toEqual([])
  })
})
