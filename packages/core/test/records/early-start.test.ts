import { describe, expect, it, vi } from 'vitest'
import { LockError, LockNotAcquiredError, MemoryStore, createLockManager } from '@cachelock/core'
import { EarlyTransaction, heldRecordLocks, withRecordLocks, type EarlyStart } from '@cachelock/core/adapter-kit'
import { ScriptedStore } from '../support/scripted-store.js'

/** An `EarlyStart` that writes what happens to it into `events`. */
function recorder(events: string[]): EarlyStart {
  return { begin: () => void events.push('begin'), abandon: () => void events.push('abandon') }
}

/** Two managers on one store: this process's (`locks`) and another client's (`other`). */
function twoClients() {
  const store = new MemoryStore()
  return { other: createLockManager({ store, prefix: 'p:' }), locks: createLockManager({ store, prefix: 'p:' }) }
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
    const { other, locks } = twoClients()
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

  it.each([
    ['a name this manager holds or waits for', ['r'], 'r'],
    ['two names, one busy here (every name must be free)', ['a', 'b'], 'b'],
  ])('%s: begins nothing (it would wait behind them)', async (_, names, busy) => {
    const locks = createLockManager()
    const held = await locks.acquire(busy)
    const events: string[] = []
    const done = withRecordLocks(locks, names, { early: recorder(events) }, null, async () => void events.push('body'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    await held.release()
    await done
    expect(events).toEqual(['body'])
  })

  it('a name that had to wait a moment ago begins nothing: contended names do not pay a wasted start each time', async () => {
    const { other, locks } = twoClients()
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
    const { other, locks } = twoClients()
    const held = await other.acquire('r')
    const events: string[] = []
    const done = withRecordLocks(locks, ['r'], { early: recorder(events), ifAvailable: true }, null, async () => void events.push('body'))
    await expect(done).rejects.toBeInstanceOf(LockNotAcquiredError)
    expect(events).toEqual(['begin', 'abandon'])
    await held.release()
  })

  it('names this flow holds already (a reentrant call) begin nothing: nothing is requested', async () => {
    const locks = createLockManager()
    const events: string[] = []
    await withRecordLocks(locks, ['r'], {}, null, async () => {
      await withRecordLocks(locks, ['r'], { early: recorder(events) }, null, async () => void events.push('body'))
    })
    expect(events).toEqual(['body'])
  })

  it('remembers every name that had to wait, and only the last 1000', async () => {
    const { other, locks } = twoClients()
    const names = Array.from({ length: 1001 }, (_, i) => `n${String(i).padStart(4, '0')}`)
    const held = await Promise.all(names.map((name) => other.acquire(name)))
    const abandoned = new Set<string>()
    const waits = names.map((name) =>
      withRecordLocks(
        locks,
        [name],
        { early: { begin: () => undefined, abandon: () => void abandoned.add(name) } },
        null,
        async () => undefined,
      ),
    )
    await until(() => abandoned.size === names.length)
    await Promise.all(held.map((handle) => handle.release()))
    await Promise.all(waits)
    const began = async (name: string) => {
      const events: string[] = []
      await withRecordLocks(locks, [name], { early: recorder(events) }, null, async () => undefined)
      return events.includes('begin')
    }
    // The first had to wait longest ago and was forgotten (1001 > 1000); the others are remembered.
    expect(await began(names[0]!)).toBe(true)
    expect(await began(names[1]!)).toBe(false)
    expect(await began(names[1000]!)).toBe(false)
  })

  it('a manager of another copy of the package (an adapter that resolved its own): begins nothing, locks as usual', async () => {
    vi.resetModules()
    const copy = await import('@cachelock/core')
    expect(copy.createLockManager).not.toBe(createLockManager) // really another copy
    const locks = copy.createLockManager()
    const events: string[] = []
    await withRecordLocks(locks, ['r'], { early: recorder(events) }, null, async ([lock]) => void events.push(`body ${lock!.name}`))
    expect(events).toEqual(['body r'])
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

/** An ORM's transaction around a callback, as Prisma's `$transaction(fn)` runs one: BEGIN, fn, COMMIT or ROLLBACK. */
function fakeOrm(options: { failToConnect?: boolean } = {}) {
  const log: string[] = []
  let next = 0
  const transaction = async (callback: (tx: string) => Promise<unknown>): Promise<unknown> => {
    await new Promise((resolve) => setTimeout(resolve, 5)) // a connection, then BEGIN
    if (options.failToConnect) throw new Error('no connection')
    const tx = `tx${++next}`
    log.push(`BEGIN ${tx}`)
    try {
      const result = await callback(tx)
      log.push(`COMMIT ${tx}`)
      return result
    } catch (error) {
      log.push(`ROLLBACK ${tx}`)
      throw error
    }
  }
  return { log, transaction }
}

describe('EarlyTransaction', () => {
  it('begun, then run: the body gets the transaction begun early, and its result commits', async () => {
    const orm = fakeOrm()
    const early = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    early.begin()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(orm.log).toEqual(['BEGIN tx1'])
    const result = early.run(async (tx) => `worked in ${tx}`)
    expect(await result).toBe('worked in tx1')
    expect(orm.log).toEqual(['BEGIN tx1', 'COMMIT tx1'])
    // Taken over: nothing is left to abandon or run again.
    early.abandon()
    expect(early.run(async () => 'again')).toBeUndefined()
  })

  it('run before BEGIN has completed: the body waits for it', async () => {
    const orm = fakeOrm()
    const early = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    early.begin()
    expect(await early.run(async (tx) => tx)).toBe('tx1')
    expect(orm.log).toEqual(['BEGIN tx1', 'COMMIT tx1'])
  })

  it('a body that fails, at once or later, rolls back and run rejects with its error', async () => {
    const orm = fakeOrm()
    const throwing = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    throwing.begin()
    await expect(
      throwing.run(() => {
        throw new Error('thrown')
      }),
    ).rejects.toThrow('thrown')
    const rejecting = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    rejecting.begin()
    await expect(rejecting.run(() => Promise.reject(new Error('rejected')))).rejects.toThrow('rejected')
    expect(orm.log).toEqual(['BEGIN tx1', 'ROLLBACK tx1', 'BEGIN tx2', 'ROLLBACK tx2'])
  })

  it('abandoned, before or after BEGIN: rolled back, and run gives undefined (the caller begins its own)', async () => {
    const orm = fakeOrm()
    const before = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    before.begin()
    before.abandon()
    before.abandon() // more than once: nothing more happens
    expect(before.run(async () => 'x')).toBeUndefined()
    const after = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    after.begin()
    await new Promise((resolve) => setTimeout(resolve, 20))
    after.abandon()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(after.run(async () => 'x')).toBeUndefined()
    expect(orm.log.sort()).toEqual(['BEGIN tx1', 'BEGIN tx2', 'ROLLBACK tx1', 'ROLLBACK tx2'])
  })

  it('never begun: run gives undefined and abandon does nothing', () => {
    const orm = fakeOrm()
    const early = new EarlyTransaction<string>((callback) => orm.transaction(callback))
    early.abandon()
    expect(early.run(async () => 'x')).toBeUndefined()
    expect(orm.log).toEqual([])
  })

  it('the ORM fails before BEGIN (no connection): run rejects with its error; abandoned, nothing is reported unhandled', async () => {
    const unhandled: unknown[] = []
    const listener = (reason: unknown) => void unhandled.push(reason)
    process.on('unhandledRejection', listener)
    try {
      const taken = new EarlyTransaction<string>((callback) => fakeOrm({ failToConnect: true }).transaction(callback))
      taken.begin()
      await expect(taken.run(async () => 'x')).rejects.toThrow('no connection')
      const dropped = new EarlyTransaction<string>((callback) => fakeOrm({ failToConnect: true }).transaction(callback))
      dropped.begin()
      dropped.abandon()
      const idle = new EarlyTransaction<string>((callback) => fakeOrm().transaction(callback))
      idle.begin()
      idle.abandon() // before BEGIN: the rejected callback result waits for the ORM to take it up
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', listener)
    }
  })
})
