import { describe, expect, it } from 'vitest'
import { createLockManager, LockLostError, MemoryStore, type LockHandle } from '@cachelock/core'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * Several shared holders of one name in one manager: the name's queue keeps every one of them
 * (`held-leases.ts`), so what the manager says and does about its holders counts them all.
 */

const shared = { mode: 'shared' } as const
const heldHere = async (locks: ReturnType<typeof createLockManager>) => (await locks.query()).held.map((info) => info.mode)

describe('several shared holders of one name in one manager', () => {
  it('a third shared request is granted beside two', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const holders = [await locks.acquire('stock', shared), await locks.acquire('stock', shared)]
    const third = await locks.tryAcquire('stock', shared)
    expect(third).not.toBeNull()
    expect(await heldHere(locks)).toEqual(['shared', 'shared', 'shared'])
    await Promise.all([...holders, third!].map((holder) => holder.release()))
  })

  it('query() lists every one, and the two left after one of three released', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const first = await locks.acquire('stock', shared)
    const second = await locks.acquire('stock', shared)
    expect(await heldHere(locks)).toEqual(['shared', 'shared'])
    const third = await locks.acquire('stock', shared)
    await second.release()
    expect(await heldHere(locks)).toEqual(['shared', 'shared'])
    await first.release()
    expect(await heldHere(locks)).toEqual(['shared'])
    await third.release()
    expect(await heldHere(locks)).toEqual([])
  })

  it('forceRelease() signals the loss to every one, also to the two left after one of three released', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const expectAllLost = (holders: LockHandle[]) => {
      for (const holder of holders) {
        expect(holder.signal.aborted).toBe(true)
        expect(holder.signal.reason).toBeInstanceOf(LockLostError)
        expect(holder.signal.reason).toMatchObject({ reason: 'force-released' })
      }
    }
    const pair = [await locks.acquire('pair', shared), await locks.acquire('pair', shared)]
    expect(await locks.forceRelease('pair')).toBe(true)
    expectAllLost(pair)

    const trio = [await locks.acquire('trio', shared), await locks.acquire('trio', shared), await locks.acquire('trio', shared)]
    await trio[0]!.release()
    expect(await locks.forceRelease('trio')).toBe(true)
    expectAllLost(trio.slice(1))
    expect(await heldHere(locks)).toEqual([])
  })

  it('a steal ending two of them asks nothing for a shared request waiting here: the thief excludes it', async () => {
    // No wake-ups from the store: only this manager's own changes make the reader be asked again.
    const store = new ScriptedStore({ wakeUps: false })
    store.hold = () => false
    const locks = createLockManager({ store, sleep: 60_000 })
    const victims = [await locks.acquire('stock', shared), await locks.acquire('stock', shared)]
    store.hold = () => true
    const waiting = locks.acquire('stock', shared)
    expect(store.requests).toHaveLength(3)
    // Refused (as a store with a writer queued before it would): the request waits here.
    store.held[0]!.answer({ granted: false, retryInMs: 60_000 })
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(store.requests).toHaveLength(3)
    // The thief's lease goes in before the victims go out: as each victim ends, the waiting reader
    // is weighed against the thief and the victim still held, and must not be asked for.
    const thief = await locks.acquire('stock', { steal: true })
    for (const victim of victims) expect(victim.signal.reason).toMatchObject({ reason: 'stolen' })
    expect(store.requests).toHaveLength(3)
    expect(await heldHere(locks)).toEqual(['exclusive'])
    store.hold = () => false
    for (const attempt of [...store.held]) attempt.pass()
    await thief.release()
    await (await waiting).release()
  })
})
