import { expect, it } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * The shared requests asked for together are one round: when the store refuses them, the round
 * pauses for the shortest wait any refusal named (the earliest a holder's ttl ends), not for the
 * last or the longest.
 */
it('a round of refused shared requests pauses for the shortest retry any refusal named', async () => {
  // No wake-ups and a one-minute poll: only the refusals' retry times can end the pause early.
  const store = new ScriptedStore({ wakeUps: false })
  const locks = createLockManager({ store, sleep: 60_000 })
  const first = locks.acquire('report', { mode: 'shared', timeout: 10_000 })
  const second = locks.acquire('report', { mode: 'shared', timeout: 10_000 })
  expect(store.held).toHaveLength(2)
  const [soon, late] = [store.held[0]!, store.held[1]!]
  store.hold = () => false
  soon.answer({ granted: false, retryInMs: 100 })
  late.answer({ granted: false, retryInMs: 60_000 })
  const [a, b] = await Promise.all([first, second])
  expect(store.requests).toHaveLength(4)
  await Promise.all([a.release(), b.release()])
})
