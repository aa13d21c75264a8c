import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockLostError, MemoryStore, createLockManager, type Lock } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

/** The W3C Web Locks semantics, kept exactly (see the spec's "request a lock" algorithm). */
describe('Web Locks semantics', () => {
  it('holds the lock until the callback settles, then resolves with its result', async () => {
    const locks = createLockManager()
    const order: string[] = []
    const first = locks.request('a', async () => {
      order.push('first start')
      await tick()
      order.push('first end')
      return 1
    })
    const second = locks.request('a', () => {
      order.push('second')
      return 2
    })
    expect(await Promise.all([first, second])).toEqual([1, 2])
    expect(order).toEqual(['first start', 'first end', 'second'])
  })

  it('rejects with the callback’s error and releases the lock', async () => {
    const locks = createLockManager()
    await expect(locks.request('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(locks.request('a', () => 'free again')).resolves.toBe('free again')
  })

  it('never calls back synchronously, and an abort right after request() wins', async () => {
    const locks = createLockManager()
    let called = false
    const controller = new AbortController()
    const promise = locks.request('a', { signal: controller.signal }, () => {
      called = true
    })
    expect(called).toBe(false)
    controller.abort(new Error('changed my mind'))
    await expect(promise).rejects.toThrow('changed my mind')
    expect(called).toBe(false)
    expect((await locks.query()).held).toEqual([])
  })

  it('rejects at once with the reason of an already aborted signal', async () => {
    const locks = createLockManager()
    const reason = new Error('already')
    await expect(locks.request('a', { signal: AbortSignal.abort(reason) }, () => 1)).rejects.toBe(reason)
  })

  it('aborts a waiting request with the signal’s reason (AbortSignal.timeout gives TimeoutError)', async () => {
    const locks = createLockManager()
    const handle = await locks.acquire('a')
    const error = await locks.request('a', { signal: AbortSignal.timeout(30) }, () => 1).catch((e: Error) => e)
    expect((error as Error).name).toBe('TimeoutError')
    await handle.release()
  })

  it('shows a request as pending as soon as request() returns', async () => {
    const locks = createLockManager()
    const handle = await locks.acquire('a')
    const waiting = locks.request('a', { mode: 'shared' }, () => 'done')
    const { held, pending } = await locks.query()
    expect(pending).toEqual([{ name: 'a', mode: 'shared', clientId: locks.clientId }])
    expect(held).toEqual([{ name: 'a', mode: 'exclusive', clientId: locks.clientId }])
    await handle.release()
    await waiting
    expect(await locks.query()).toEqual({ held: [], pending: [] })
  })

  it('grants in request order (FIFO) per name', async () => {
    const locks = createLockManager()
    const handle = await locks.acquire('a')
    const order: number[] = []
    const all = [1, 2, 3, 4, 5].map((i) => locks.request('a', { mode: i % 2 ? 'exclusive' : 'shared' }, () => void order.push(i)))
    await handle.release()
    await Promise.all(all)
    expect(order).toEqual([1, 2, 3, 4, 5])
  })

  it('grants shared locks together and exclusive alone', async () => {
    const locks = createLockManager()
    let sharedInside = 0
    let maxShared = 0
    let exclusiveInside = false
    const shared = () =>
      locks.request('rw', { mode: 'shared' }, async () => {
        expect(exclusiveInside).toBe(false)
        maxShared = Math.max(maxShared, ++sharedInside)
        await tick()
        sharedInside--
      })
    const exclusive = () =>
      locks.request('rw', async () => {
        expect(sharedInside).toBe(0)
        exclusiveInside = true
        await tick()
        exclusiveInside = false
      })
    await Promise.all([shared(), shared(), shared(), exclusive(), shared(), shared()])
    expect(maxShared).toBe(3)
  })

  it('calls back with null under ifAvailable when the lock is taken', async () => {
    const locks = createLockManager()
    const seen = await locks.request('a', async () => locks.request('a', { ifAvailable: true }, (lock) => lock))
    expect(seen).toBeNull()
    const free = await locks.request('a', { ifAvailable: true }, (lock) => lock?.name)
    expect(free).toBe('a')
  })

  it('is not reentrant: the holder asking again with ifAvailable gets null', async () => {
    const locks = createLockManager()
    await locks.request('a', async (outer) => {
      expect(outer.held).toBe(true)
      expect(await locks.request('a', { ifAvailable: true }, (inner) => inner)).toBeNull()
    })
  })

  it('ifAvailable does not jump the queue: a waiter ahead makes it null', async () => {
    const locks = createLockManager()
    const handle = await locks.acquire('a', { mode: 'shared' })
    const exclusiveWaiter = locks.request('a', () => 'x')
    expect(await locks.request('a', { mode: 'shared', ifAvailable: true }, (lock) => lock)).toBeNull()
    await handle.release()
    await exclusiveWaiter
  })

  it('steals: grants at once, marks the old holder’s lock lost and rejects its request with AbortError at once', async () => {
    const locks = createLockManager()
    let victim: Lock | undefined
    let release!: () => void
    const held = locks.request('a', (lock) => {
      victim = lock
      return new Promise<void>((resolve) => (release = resolve))
    })
    const rejected = held.catch((error: unknown) => error)
    while (!victim) await tick()
    const fencing = victim.fencingToken
    const stolen = await locks.request('a', { steal: true }, (lock) => lock.fencingToken)
    expect(stolen).toBeGreaterThan(fencing)
    expect(victim.signal.aborted).toBe(true)
    expect(victim.signal.reason).toBeInstanceOf(LockLostError)
    expect((victim.signal.reason as LockLostError).reason).toBe('stolen')
    // Although its callback has not settled (Web Locks: the broken lock's request rejects).
    const error = await rejected
    expect(error).toBeInstanceOf(DOMException)
    expect((error as DOMException).name).toBe('AbortError')
    expect((error as DOMException).cause).toBe(victim.signal.reason)
    release()
  })

  it('steals in call order, after the attempts sent before them, whatever order the store would run them in', async () => {
    // A store on a connection pool can run a steal ahead of an acquire sent first: here the
    // acquire is held back while both steals could reach the store.
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    const never = new Promise<void>(() => undefined)
    store.paused.add('acquire')
    const first = locks.request('a', () => never).catch((error: unknown) => error)
    const firstSteal = locks.request('a', { steal: true }, () => never).catch((error: unknown) => error)
    let thief: Lock | undefined
    const secondSteal = locks.request('a', { steal: true }, (lock) => {
      thief = lock
      return never
    })
    await tick()
    store.resume()
    // The grant sent first lands first and is stolen, then the first steal's, by the last caller.
    expect(await first).toMatchObject({ name: 'AbortError' })
    expect(await firstSteal).toMatchObject({ name: 'AbortError' })
    while (!thief) await tick()
    expect(thief.signal.aborted).toBe(false)
    expect(await locks.query()).toMatchObject({ held: [{ name: 'a', mode: 'exclusive' }], pending: [] })
    void secondSteal
  })

  it('keeps track of a thief whose victim was the name’s last holder: query() shows it, the next steal takes from it', async () => {
    const locks = createLockManager()
    const victim = await locks.acquire('a')
    const never = new Promise<void>(() => undefined)
    const thief = locks.request('a', { steal: true }, () => never).catch((error: unknown) => error)
    while (!victim.signal.aborted) await tick()
    expect((await locks.query()).held).toEqual([{ name: 'a', mode: 'exclusive', clientId: locks.clientId }])
    expect(await locks.request('a', { steal: true }, () => 'again')).toBe('again')
    expect(await thief).toMatchObject({ name: 'AbortError' })
  })

  it('accepts any string as a name, the empty one too, except those starting with "-"', async () => {
    const locks = createLockManager()
    for (const name of ['', ' ', 'a-b', '\uD800', '日本', 'x'.repeat(5000)])
      expect(await locks.request(name, (lock) => lock.name)).toBe(name)
    const error = await locks.request('-x', () => 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect((error as InvalidLockArgumentError).code).toBe('LOCK_NOT_SUPPORTED')
  })

  it.each([
    [{ steal: true, ifAvailable: true }, 'options.steal'],
    [{ steal: true, mode: 'shared' as const }, 'options.steal'],
    [{ signal: new AbortController().signal, steal: true }, 'options.signal'],
    [{ signal: new AbortController().signal, ifAvailable: true }, 'options.signal'],
  ])('rejects the combination the spec forbids: %o', async (options, argument) => {
    const locks = createLockManager()
    const error = (await locks.request('a', options, () => 1).catch((e: unknown) => e)) as InvalidLockArgumentError
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error.code).toBe('LOCK_NOT_SUPPORTED')
    expect(error.argument).toBe(argument)
    expect((await locks.query()).pending).toEqual([])
  })

  it('reports other managers’ holders in query() with their clientId', async () => {
    const store = new MemoryStore()
    const a = createLockManager({ store })
    const b = createLockManager({ store })
    const handle = await a.acquire('shared-name', { mode: 'shared' })
    await b.request('shared-name', { mode: 'shared' }, async () => {
      const { held } = await b.query()
      expect(held.map((h) => h.clientId).sort()).toEqual([a.clientId, b.clientId].sort())
    })
    await handle.release()
  })
})

describe('query() is exact about this manager', () => {
  it('a request whose grant is on its way is reported held, not pending', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, prefix: '' })
    let release!: () => void
    // The first request's attempt stays out until resume(): query() must wait for its answer.
    store.paused.add('acquire')
    const held = locks.request('a', () => new Promise<void>((resolve) => (release = resolve)))
    store.paused.delete('acquire')
    const waiting = locks.request('a', () => undefined)
    const snapshot = locks.query()
    setTimeout(() => store.resume(), 20)
    const state = await snapshot
    expect(state.held.map((lock) => lock.name)).toEqual(['a'])
    expect(state.pending.map((lock) => lock.name)).toEqual(['a'])
    expect(new Set([...state.held, ...state.pending].map((lock) => lock.clientId))).toEqual(new Set([locks.clientId]))
    release()
    await Promise.all([held, waiting])
    expect(await locks.query()).toEqual({ held: [], pending: [] })
  })
})

describe("query() and other managers' pending requests", () => {
  it('lists another manager waiting once the store refused it; an ifAvailable behind it answers only after that', async () => {
    const store = new FlakyStore()
    const [a, b] = [createLockManager({ store, prefix: '' }), createLockManager({ store, prefix: '' })]
    const held = await a.acquire('x')
    // B's waiting request is out at the store (its answer held back) when B's ifAvailable is refused.
    store.paused.add('acquire')
    const waiting = b.request('x', () => 'granted')
    const tried = b.request('x', { ifAvailable: true }, (lock) => lock)
    setTimeout(() => store.resume(), 20)
    expect(await tried).toBeNull()
    // Whoever heard that null finds B's earlier request pending, in its mode.
    expect((await a.query()).pending).toEqual([{ name: 'x', mode: 'exclusive', clientId: b.clientId }])
    expect((await b.query()).pending).toEqual([{ name: 'x', mode: 'exclusive', clientId: b.clientId }])
    await held.release()
    expect(await waiting).toBe('granted')
  })
})
