import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it, vi } from 'vitest'
import { LockOrderError, channelNames, createLockManager } from '@cachelock/core'
import { heldRecordLock, recordLockClaimed, withRecordLocks } from '@cachelock/core/adapter-kit'
import { FlakyStore } from '../helpers.js'

describe('withRecordLocks', () => {
  it('takes names sorted and deduplicated, and releases them after', async () => {
    const locks = createLockManager()
    const seen = await withRecordLocks(locks, ['b', 'a', 'b'], {}, null, async (held) => {
      expect((await locks.query()).held.map((h) => h.name).sort()).toEqual(['a', 'b'])
      return held.map((lock) => lock.name)
    })
    expect(seen).toEqual(['a', 'b'])
    expect((await locks.query()).held).toEqual([])
  })

  it('cannot deadlock when two flows lock the same records in opposite orders', async () => {
    const locks = createLockManager()
    const run = (names: string[]) => withRecordLocks(locks, names, {}, null, () => new Promise((resolve) => setTimeout(resolve, 5)))
    await Promise.all(Array.from({ length: 20 }, (_, i) => run(i % 2 ? ['x', 'y'] : ['y', 'x'])))
  })

  it('is reentrant in the same flow and exposes the context; another flow waits', async () => {
    const locks = createLockManager()
    const order: string[] = []
    let entered!: () => void
    const outerHolds = new Promise<void>((resolve) => (entered = resolve))
    const outer = withRecordLocks(locks, ['r'], {}, 'outer-tx', async () => {
      entered()
      await withRecordLocks(locks, ['r'], {}, 'inner', async (_, reentered) => {
        expect(reentered).toEqual([true])
        expect(heldRecordLock(locks, 'r')?.context).toBe('outer-tx')
        order.push('nested')
      })
      await new Promise((resolve) => setTimeout(resolve, 10))
      order.push('outer end')
    })
    await outerHolds
    // Started outside the holder's async context: a different flow, so it waits.
    const other = withRecordLocks(locks, ['r'], {}, null, async () => void order.push('other flow'))
    await Promise.all([outer, other])
    expect(order).toEqual(['nested', 'outer end', 'other flow'])
  })

  it('work started inside the holder (Promise.all branches) shares its lock, as documented', async () => {
    const locks = createLockManager()
    const branches = await withRecordLocks(locks, ['p'], {}, null, () =>
      Promise.all([1, 2].map((i) => withRecordLocks(locks, ['p'], {}, null, async (_, reentered) => [i, reentered[0]]))),
    )
    expect(branches).toEqual([
      [1, true],
      [2, true],
    ])
  })

  it('work that outlives the block no longer counts as holding the lock', async () => {
    const locks = createLockManager()
    let later!: Promise<boolean>
    await withRecordLocks(locks, ['alive'], {}, null, async () => {
      later = new Promise((resolve) => setTimeout(() => resolve(heldRecordLock(locks, 'alive') !== undefined), 20))
    })
    expect(await later).toBe(false)
  })

  it('releases what it took when a later lock cannot be had', async () => {
    const locks = createLockManager()
    const blocker = await locks.acquire('m2')
    await expect(withRecordLocks(locks, ['m1', 'm2'], { timeout: 20 }, null, async () => 1)).rejects.toThrow('not acquired')
    expect(await locks.isLocked('m1')).toBe(false)
    await blocker.release()
  })

  it('reports out-of-order nesting, and throws under strictLockOrder', async () => {
    const locks = createLockManager()
    const events: unknown[] = []
    const listener = (event: unknown) => events.push(event)
    diagnostics.subscribe(channelNames.lockOrder, listener)
    try {
      await withRecordLocks(locks, ['order:2'], {}, null, () => withRecordLocks(locks, ['order:1'], {}, null, async () => 'allowed'))
      expect(events).toEqual([{ name: 'order:1', heldName: 'order:2', thrown: false }])
      const error = await withRecordLocks(locks, ['order:2'], {}, null, () =>
        withRecordLocks(locks, ['order:1'], { strictLockOrder: true }, null, async () => 'never'),
      ).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockOrderError)
      expect(await locks.isLocked('order:1')).toBe(false)
      // In order is fine, and so is a sorted multi-record call.
      await withRecordLocks(locks, ['order:1'], { strictLockOrder: true }, null, () =>
        withRecordLocks(locks, ['order:2'], { strictLockOrder: true }, null, async () => 'fine'),
      )
      await withRecordLocks(locks, ['order:3', 'order:1'], { strictLockOrder: true }, null, async () => 'fine')
      expect(events).toHaveLength(2)
    } finally {
      diagnostics.unsubscribe(channelNames.lockOrder, listener)
    }
  })
})

describe('withRecordLocks outcomes', () => {
  it('a lock lost during the body does not turn the body’s result or error into a release error', async () => {
    const locks = createLockManager()
    expect(await withRecordLocks(locks, ['lost-ok'], {}, null, async () => (await locks.forceRelease('lost-ok'), 'result'))).toBe('result')
    const failure = new Error('body failed')
    await expect(
      withRecordLocks(locks, ['lost-fail'], {}, null, async () => {
        await locks.forceRelease('lost-fail')
        throw failure
      }),
    ).rejects.toBe(failure)
  })
})

describe('withRecordLocks when the store fails the release', () => {
  it('resolves with the body’s result (its work is done), publishes the failure on `released`, and the ttl frees the lock', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, ttl: 200 })
    const released: { name: string; error?: unknown }[] = []
    const listen = (message: unknown) => void released.push(message as { name: string; error?: unknown })
    diagnostics.subscribe(channelNames.released, listen)
    try {
      store.failing.add('release')
      const result = await withRecordLocks(locks, ['b', 'a'], {}, null, async () => 'committed')
      expect(result).toBe('committed')
      expect(store.calls.filter((call) => call === 'release')).toHaveLength(2)
      expect(released.map(({ name, error }) => [name, (error as Error | undefined)?.message])).toEqual([
        ['b', 'connection lost during release'],
        ['a', 'connection lost during release'],
      ])
      // Still held in the store: the ttl frees it, and nothing renews it meanwhile.
      const other = createLockManager({ store })
      expect(await other.isLocked('a')).toBe(true)
      await vi.waitFor(async () => expect(await other.isLocked('a')).toBe(false), { timeout: 2000, interval: 20 })
      // A body that fails still rejects with its own error.
      const failure = new Error('body failed')
      await expect(withRecordLocks(locks, ['c'], {}, null, () => Promise.reject(failure))).rejects.toBe(failure)
    } finally {
      diagnostics.unsubscribe(channelNames.released, listen)
    }
  })
})

describe('withRecordLocks with join', () => {
  const outerOf = (locks: ReturnType<typeof createLockManager>, name: string) => heldRecordLock(locks, name)!

  it('keeps a joined lock until the enclosing block ends, visible to the enclosing flow', async () => {
    const locks = createLockManager()
    await withRecordLocks(locks, ['a'], {}, 'tx', async () => {
      await withRecordLocks(locks, ['b'], { join: outerOf(locks, 'a') }, 'tx', async (_, reentered) => expect(reentered).toEqual([false]))
      expect(await locks.isLocked('b')).toBe(true) // still held: the enclosing transaction has not committed
      expect(heldRecordLock(locks, 'b')?.context).toBe('tx')
    })
    expect(await locks.isLocked('b')).toBe(false)
    expect(await locks.isLocked('a')).toBe(false)
  })

  it('without join, a nested lock is released when the nested call returns', async () => {
    const locks = createLockManager()
    await withRecordLocks(locks, ['a'], {}, null, async () => {
      await withRecordLocks(locks, ['b'], {}, null, async () => undefined)
      expect(await locks.isLocked('b')).toBe(false)
    })
  })

  it('concurrent joiners of one name share one acquisition instead of waiting for themselves', async () => {
    const locks = createLockManager()
    const seen = await withRecordLocks(locks, ['a'], {}, null, () =>
      Promise.all(
        [1, 2, 3].map(() => withRecordLocks(locks, ['x'], { join: outerOf(locks, 'a') }, null, async ([lock]) => lock!.fencingToken)),
      ),
    )
    expect(new Set(seen).size).toBe(1)
    expect(await locks.isLocked('x')).toBe(false)
  })

  it('another flow waits for a joined lock until the enclosing block ends', async () => {
    const locks = createLockManager()
    const order: string[] = []
    let joinedDone!: () => void
    const joinedReady = new Promise<void>((resolve) => (joinedDone = resolve))
    const outer = withRecordLocks(locks, ['a'], {}, null, async () => {
      await withRecordLocks(locks, ['b'], { join: outerOf(locks, 'a') }, null, async () => undefined)
      joinedDone()
      await new Promise((resolve) => setTimeout(resolve, 20))
      order.push('outer commits')
    })
    await joinedReady
    await locks.withLock('b', () => void order.push('other flow got b'))
    await outer
    expect(order).toEqual(['outer commits', 'other flow got b'])
  })

  it('a failed joined acquisition leaves nothing behind, and joining an ended block is refused', async () => {
    const locks = createLockManager()
    const blocker = await locks.acquire('z')
    let saved!: ReturnType<typeof outerOf>
    await withRecordLocks(locks, ['a'], {}, null, async () => {
      saved = outerOf(locks, 'a')
      await expect(withRecordLocks(locks, ['y', 'z'], { join: saved, timeout: 20 }, null, async () => 1)).rejects.toThrow('not acquired')
      expect(await locks.isLocked('y')).toBe(false)
      expect(heldRecordLock(locks, 'y')).toBeUndefined()
    })
    await blocker.release()
    await expect(withRecordLocks(locks, ['q'], { join: saved }, null, async () => 1)).rejects.toThrow('has ended')
    await expect(withRecordLocks(locks, ['q'], { join: {} as never }, null, async () => 1)).rejects.toThrow('`options.join`')
  })

  it('checks lock order against the joined block too', async () => {
    const locks = createLockManager()
    await withRecordLocks(locks, ['m'], {}, null, async () => {
      await withRecordLocks(locks, ['z'], { join: outerOf(locks, 'm') }, null, async () => undefined)
      await expect(
        withRecordLocks(locks, ['n'], { join: outerOf(locks, 'm'), strictLockOrder: true }, null, async () => 1),
      ).rejects.toBeInstanceOf(LockOrderError)
    })
  })
})

describe('recordLockClaimed', () => {
  it('sees a name a joined call of this flow is still acquiring, and lock order counts it', async () => {
    const locks = createLockManager()
    const blocker = await locks.acquire('slow')
    await withRecordLocks(locks, ['a'], {}, null, async () => {
      const joining = withRecordLocks(locks, ['slow'], { join: heldRecordLock(locks, 'a')! }, null, async () => 'joined')
      expect(heldRecordLock(locks, 'slow')).toBeUndefined() // not granted yet...
      expect(recordLockClaimed(locks, 'slow')).toBe(true) // ...but on its way for this flow
      expect(recordLockClaimed(locks, 'other')).toBe(false)
      await expect(withRecordLocks(locks, ['b'], { strictLockOrder: true }, null, async () => 1)).rejects.toBeInstanceOf(LockOrderError)
      setTimeout(() => void blocker.release(), 10)
      expect(await joining).toBe('joined')
    })
  })
})
