import { describe, expect, it } from 'vitest'
import { createLockManager, OpenStore, type LockMode } from '@cachelock/core'
import { FlakyStore, sleep } from './helpers.js'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * A name's queue knows its own manager's holders and attempts: it grants what they allow without
 * waiting for them, and asks the store nothing it already knows the store must refuse. (Web Locks:
 * shared beside shared, exclusive alone.)
 */

const acquires = (store: FlakyStore) => store.calls.filter((call) => call === 'acquire').length

describe('local holders decide what is asked for', () => {
  it('a shared request is granted beside a shared holder of the same manager, without waiting for it', async () => {
    const locks = createLockManager({ store: new FlakyStore() })
    const first = await locks.acquire('stock', { mode: 'shared' })
    const second = await locks.tryAcquire('stock', { mode: 'shared' })
    expect(second).not.toBeNull()
    expect(first.signal.aborted).toBe(false)
    await Promise.all([first.release(), second!.release()])
  })

  const conflicts: [held: LockMode, asked: LockMode][] = [
    ['exclusive', 'exclusive'],
    ['exclusive', 'shared'],
    ['shared', 'exclusive'],
  ]
  it.each(conflicts)('a try for %s beside a local %s holder is refused without asking the store', async (held, asked) => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    const holder = await locks.acquire('stock', { mode: held })
    const before = acquires(store)
    expect(await locks.tryAcquire('stock', { mode: asked })).toBeNull()
    expect(acquires(store)).toBe(before)
    await holder.release()
  })

  it('a waiting request behind a local holder asks the store only once that holder released', async () => {
    const store = new FlakyStore()
    // A short poll: were the request asked for while the holder is here, it would be asked often.
    const locks = createLockManager({ store, sleep: 5 })
    const holder = await locks.acquire('stock')
    const waiting = locks.acquire('stock')
    await sleep(100)
    expect(acquires(store)).toBe(1)
    await holder.release()
    const next = await waiting
    expect(acquires(store)).toBe(2)
    await next.release()
  })

  it('on a store that never locks (open), local holders exclude nothing', async () => {
    const locks = createLockManager({ store: new OpenStore() })
    const holder = await locks.acquire('stock')
    const second = await locks.tryAcquire('stock')
    expect(second).not.toBeNull()
    await Promise.all([holder.release(), second!.release()])
  })
})

describe('attempts out decide who may be asked for', () => {
  it('an exclusive request waits for the shared attempts out before it is asked for, even one whose request gave up', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, sleep: 10_000 })
    const controller = new AbortController()
    const reader = locks.acquire('stock', { mode: 'shared', signal: controller.signal })
    controller.abort(new Error('gave up'))
    await expect(reader).rejects.toThrow('gave up')
    const writer = locks.acquire('stock')
    await sleep(20)
    expect(store.requests.map((request) => request.mode)).toEqual(['shared'])
    store.hold = () => false
    // The reader's grant is given back; then the writer is asked for, and granted.
    store.held[0]!.pass()
    const write = await writer
    expect(store.requests.map((request) => request.mode)).toEqual(['shared', 'exclusive'])
    await write.release()
  })

  it('a shared request waits while an exclusive attempt is out, even one whose request gave up', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store })
    const controller = new AbortController()
    const writer = locks.acquire('stock', { signal: controller.signal })
    controller.abort(new Error('gave up'))
    await expect(writer).rejects.toThrow('gave up')
    const reader = locks.acquire('stock', { mode: 'shared' })
    await sleep(20)
    expect(store.requests.map((request) => request.mode)).toEqual(['exclusive'])
    store.hold = () => false
    // The writer's grant is given back; then the reader is asked for, and granted.
    store.held[0]!.pass()
    const read = await reader
    expect(store.requests.map((request) => request.mode)).toEqual(['exclusive', 'shared'])
    await read.release()
  })

  it('a local release while a shared attempt is out asks nothing again for it', async () => {
    const store = new ScriptedStore()
    store.hold = () => false
    const locks = createLockManager({ store, sleep: 10_000 })
    const first = await locks.acquire('stock', { mode: 'shared' })
    store.hold = () => true
    const second = locks.acquire('stock', { mode: 'shared' })
    expect(store.requests).toHaveLength(2)
    await first.release()
    await sleep(20)
    // The release pokes the queue; the attempt out is still this round's, not asked for twice.
    expect(store.requests).toHaveLength(2)
    store.held[0]!.pass()
    await (await second).release()
  })

  it('a local release while attempts are out skips the pause their refusal asks for', async () => {
    // No wake-ups from the store: only the local release can cut the pause short.
    const store = new ScriptedStore({ wakeUps: false })
    store.hold = () => false
    const locks = createLockManager({ store, sleep: 60_000 })
    const local = await locks.acquire('stock', { mode: 'shared' })
    store.hold = () => true
    const first = locks.acquire('stock', { mode: 'shared', timeout: 5000 })
    // The local release pokes the queue while the attempt is out ...
    await local.release()
    // ... and a request joining the round after it does not undo that.
    const second = locks.acquire('stock', { mode: 'shared', timeout: 5000 })
    expect(store.requests).toHaveLength(3)
    store.hold = () => false
    // Refusals sent before the release, arriving after it: they would pause for up to a minute.
    for (const attempt of [...store.held]) attempt.answer({ granted: false, retryInMs: 60_000 })
    const [a, b] = await Promise.all([first, second])
    await Promise.all([a.release(), b.release()])
  })
})
