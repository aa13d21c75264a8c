import { describe, expect, it } from 'vitest'
import { LockError, LockNotAcquiredError, MemoryStore, createLockManager } from '@cachelock/core'
import { heldRecordLocks, withRecordLocks, type EarlyStart } from '@cachelock/core/adapter-kit'
import { ScriptedStore } from '../support/scripted-store.js'

/** An `EarlyStart` that writes what happens to it into `events`. */
function recorder(events: string[]): EarlyStart {
  return { begin: () => void events.push('begin'), abandon: () => void events.push('abandon') }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
  expect(condition()).toBe(true)
}

/**
 * `withRecordLocks`' `early`: work an adapter begins beside the lock requests (a transaction's
 * BEGIN) when the locks are likely free, and must give up before anyone waits on it.
 */
describe('withRecordLocks with early', () => {
  it('a free lock: begins before the store answers the acquire; abandons only after the body', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store })
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events) }, null, async () => void events.push('body'))
    await until(() => store.held.length === 1)
    // The acquire is out and not answered, and the work has begun already.
    expect(events).toEqual(['begin'])
    store.held[0]!.pass()
    await done
    expect(events).toEqual(['begin', 'body', 'abandon'])
  })

  it('a lock another client holds: abandons as soon as the store refuses, long before the grant', async () => {
    const store = new MemoryStore()
    const other = createLockManager({ store, prefix: 'p:' })
    const locks = createLockManager({ store, prefix: 'p:' })
    const held = await other.acquire('r')
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events), timeout: 5000 }, null, async () => void events.push('body'))
    await until(() => events.includes('abandon'))
    // Still waiting: what began was given up while the other client holds the lock.
    expect(held.held).toBe(true)
    expect(events).toEqual(['begin', 'abandon'])
    await held.release()
    await done
    expect(events).toEqual(['begin', 'abandon', 'body', 'abandon'])
  })

  it('a name this manager holds or waits for: begins nothing (it would wait behind them)', async () => {
    const locks = createLockManager()
    const held = await locks.acquire('r')
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events) }, null, async () => void events.push('body'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    await held.release()
    await done
    expect(events).toEqual(['body'])
  })

  it('a name that had to wait a moment ago begins nothing: contended names do not pay a wasted start each time', async () => {
    const store = new MemoryStore()
    const other = createLockManager({ store, prefix: 'p:' })
    const locks = createLockManager({ store, prefix: 'p:' })
    const held = await other.acquire('r')
    const first: string[] = []
    const waited = withRecordLocks(locks, ['r'], { early: recorder(first) }, null, async () => undefined)
    await until(() => first.includes('abandon'))
    await held.release()
    await waited
    const again: string[] = []
    await withRecordLocks(locks, ['r'], { early: recorder(again) }, null, async () => void again.push('body'))
    expect(again).toEqual(['body'])
    // Another name is not contended.
    const elsewhere: string[] = []
    await withRecordLocks(locks, ['s'], { early: recorder(elsewhere) }, null, async () => void elsewhere.push('body'))
    expect(elsewhere).toEqual(['begin', 'body', 'abandon'])
  })

  it('the second of two names is taken here meanwhile: abandons before waiting for it', async () => {
    const store = new ScriptedStore()
    store.hold = (request) => request.key === 'lock:a'
    const locks = createLockManager({ store })
    const events: string[] = []
    const done = withRecordLocks(locks, ['a', 'b'], { early: recorder(events) }, null, async () => void events.push('body'))
    await until(() => store.held.length === 1)
    expect(events).toEqual(['begin'])
    // While 'a' is being asked for, this manager asks for 'b' for someone else (granted after
    // 'a' is answered: the manager delivers grants in the order it asked).
    const taking = locks.acquire('b')
    store.held[0]!.pass()
    const b = await taking
    await until(() => events.includes('abandon'))
    expect(events).toEqual(['begin', 'abandon'])
    await b.release()
    await done
    expect(events).toEqual(['begin', 'abandon', 'body', 'abandon'])
  })

  it('the store fails the acquire: abandons, and the caller gets the LockError', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store })
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events) }, null, async () => void events.push('body'))
    await until(() => store.held.length === 1)
    store.held[0]!.fail(new Error('connection reset'))
    await expect(done).rejects.toBeInstanceOf(LockError)
    expect(events).toEqual(['begin', 'abandon'])
  })

  it('the store fails, and the request retries within its timeout: abandons before it retries', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, sleep: 20 })
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events), timeout: 5000 }, null, async () => void events.push('body'))
    await until(() => store.held.length === 1)
    store.held[0]!.fail(new Error('connection reset'))
    await until(() => events.includes('abandon'))
    expect(events).toEqual(['begin', 'abandon'])
    store.hold = () => false
    await done
    expect(events).toEqual(['begin', 'abandon', 'body', 'abandon'])
  })

  it('ifAvailable finds it taken elsewhere: abandons, and the caller gets LockNotAcquiredError', async () => {
    const store = new MemoryStore()
    const other = createLockManager({ store, prefix: 'p:' })
    const locks = createLockManager({ store, prefix: 'p:' })
    const held = await other.acquire('r')
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events), ifAvailable: true }, null, async () => void events.push('body'))
    await expect(done).rejects.toBeInstanceOf(LockNotAcquiredError)
    expect(events).toEqual(['begin', 'abandon'])
    await held.release()
  })

  it('a call that joins an enclosing scope begins nothing: it runs in the enclosing work', async () => {
    const locks = createLockManager()
    const events: string[] = []
    await withRecordLocks(locks, ['a'], {}, 'outer', async () => {
      const [join] = heldRecordLocks(locks)
      await withRecordLocks(locks, ['b'], { join, early: recorder(events) }, 'inner', async () => void events.push('body'))
    })
    expect(events).toEqual(['body'])
  })
})
