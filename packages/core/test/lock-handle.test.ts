import { describe, expect, it } from 'vitest'
import { LockError, LockLostError, LockNotAcquiredError, LockNotOwnedError, MemoryStore, createLockManager } from '@cachelock/core'
import { sleep } from './helpers.js'

describe('acquire() and LockHandle', () => {
  it('holds until released, with a growing fencing token', async () => {
    const locks = createLockManager()
    const first = await locks.acquire('h')
    expect(await locks.isLocked('h')).toBe(true)
    await first.release()
    expect(await locks.isLocked('h')).toBe(false)
    const second = await locks.acquire('h')
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken)
    await second.release()
  })

  it('rejects a second release with LockNotOwnedError', async () => {
    const locks = createLockManager()
    const handle = await locks.acquire('h')
    await handle.release()
    await expect(handle.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    await expect(handle.extend()).rejects.toBeInstanceOf(LockNotOwnedError)
  })

  it('releases at the end of an `await using` block', async () => {
    const locks = createLockManager()
    {
      await using handle = await locks.acquire('using')
      expect(handle.held).toBe(true)
      expect(await locks.isLocked('using')).toBe(true)
    }
    expect(await locks.isLocked('using')).toBe(false)
  })

  it('gives up with LockNotAcquiredError after timeout, and tryAcquire gives null', async () => {
    const store = new MemoryStore()
    const a = createLockManager({ store })
    const b = createLockManager({ store, sleep: 5 })
    const handle = await a.acquire('t')
    const started = performance.now()
    const error = await b.acquire('t', { timeout: 50 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockNotAcquiredError)
    expect((error as Error).message).toContain('timed out after 50 ms')
    expect(performance.now() - started).toBeGreaterThanOrEqual(45)
    await expect(b.acquire('t', { timeout: 0 })).rejects.toBeInstanceOf(LockNotAcquiredError)
    await expect(b.acquire('t', { ifAvailable: true })).rejects.toBeInstanceOf(LockNotAcquiredError)
    expect(await b.tryAcquire('t')).toBeNull()
    await handle.release()
    const got = await b.tryAcquire('t')
    expect(got?.held).toBe(true)
    await got?.release()
  })

  it('force-releases someone else’s lock, and the victim learns at once in this manager', async () => {
    const locks = createLockManager()
    const victim = await locks.acquire('f')
    const other = await locks.tryAcquire('f')
    expect(other).toBeNull()
    expect(await locks.forceRelease('f')).toBe(true)
    expect(victim.signal.reason).toBeInstanceOf(LockLostError)
    expect((victim.signal.reason as LockLostError).reason).toBe('force-released')
    await expect(victim.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    expect(await locks.forceRelease('f')).toBe(false)
  })

  it('release({ force: true }) releases whoever holds the name', async () => {
    const store = new MemoryStore()
    const a = createLockManager({ store })
    const b = createLockManager({ store })
    const mine = await a.acquire('force')
    const theirs = await b.acquire('force', { steal: true })
    await mine.release({ force: true })
    expect(await b.isLocked('force')).toBe(false)
    expect(theirs.held).toBe(true) // b's manager only learns at its next renewal
  })

  it('withLock returns the result and gives up with an error instead of null', async () => {
    const locks = createLockManager()
    expect(await locks.withLock('w', (lock) => lock.name.toUpperCase())).toBe('W')
    const handle = await locks.acquire('w')
    await expect(locks.withLock('w', () => 1, { ifAvailable: true })).rejects.toBeInstanceOf(LockNotAcquiredError)
    await handle.release()
  })

  it('ensureHeld confirms with the store, and fails once the lock was taken over', async () => {
    const store = new MemoryStore()
    const a = createLockManager({ store })
    const b = createLockManager({ store })
    const handle = await a.acquire('e')
    await handle.ensureHeld()
    await b.forceRelease('e')
    await expect(handle.ensureHeld()).rejects.toBeInstanceOf(LockLostError)
    expect(handle.signal.aborted).toBe(true)
  })

  it('ensureHeld names what failed when the store fails: the confirmation, not an extend the caller never made', async () => {
    const store = new MemoryStore()
    const locks = createLockManager({ store })
    const handle = await locks.acquire('c')
    const extend = store.extend.bind(store)
    store.extend = () => Promise.reject(new Error('connection lost'))
    const error = (await handle.ensureHeld().catch((caught: unknown) => caught)) as LockError
    store.extend = extend
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe('LOCK_STORE_ERROR')
    expect(error.message).toBe('Store failed to confirm lock "c": connection lost')
    await handle.release()
  })

  it('extend(ms) keeps a lock past its original ttl', async () => {
    const locks = createLockManager({ autoExtend: false })
    const handle = await locks.acquire('x', { ttl: 60 })
    await handle.extend(500)
    expect(handle.ttl).toBe(500)
    await sleep(120)
    expect(handle.held).toBe(true)
    expect(await locks.isLocked('x')).toBe(true)
    await handle.release()
  })

  it('wraps store errors in LockError with the cause', async () => {
    const store = new MemoryStore()
    store.acquire = () => Promise.reject(new Error('ECONNREFUSED'))
    const locks = createLockManager({ store })
    const error = (await locks.acquire('x').catch((e: unknown) => e)) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe('LOCK_STORE_ERROR')
    expect((error.cause as Error).message).toBe('ECONNREFUSED')
    expect((await locks.query()).pending).toEqual([])
  })
})
