import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, createLockManager, type LockManager } from '@cachelock/core'

const refusal = async (promise: Promise<unknown>) => (await promise.catch((error: unknown) => error)) as InvalidLockArgumentError

/** Which options each entry point takes, and how it reports options that are no object at all. */
describe('request options per entry point', () => {
  it.each([5, 'shared', null, ['a'], true])('tryAcquire(name, %o) is refused, naming `options`', async (options) => {
    const locks = createLockManager()
    const error = await refusal(locks.tryAcquire('x', options as never))
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error.argument).toBe('options')
    expect(error.message).toContain('an options object')
    expect(await locks.isLocked('x')).toBe(false)
  })

  it('tryAcquire() takes its options: the mode it asks for is the mode it holds', async () => {
    const locks = createLockManager()
    const first = await locks.tryAcquire('x', { mode: 'shared' })
    expect(first?.mode).toBe('shared')
    const second = await locks.tryAcquire('x', { mode: 'shared' })
    expect(second?.mode).toBe('shared')
    await first?.release()
    await second?.release()
    expect((await locks.tryAcquire('x'))?.mode).toBe('exclusive')
  })

  it.each([
    ['acquire', (locks: LockManager) => locks.acquire('x', { releaseOnFinalize: false })],
    ['tryAcquire', (locks: LockManager) => locks.tryAcquire('x', { releaseOnFinalize: false })],
  ])('%s() takes the handle’s own option releaseOnFinalize', async (_, call) => {
    const locks = createLockManager()
    const handle = await call(locks)
    expect(handle?.held).toBe(true)
    await handle?.release()
  })

  it.each([
    ['request', (locks: LockManager) => locks.request('x', { releaseOnFinalize: true } as never, () => 1)],
    ['withLock', (locks: LockManager) => locks.withLock('x', () => 1, { releaseOnFinalize: true } as never)],
  ])('%s() refuses releaseOnFinalize, which only a handle has', async (_, call) => {
    const locks = createLockManager()
    const error = await refusal(call(locks))
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error.argument).toBe('options.releaseOnFinalize')
  })

  it.each([5, null])('release(%o) is refused, naming `options`', async (options) => {
    const locks = createLockManager()
    const handle = await locks.acquire('x')
    const error = await refusal(handle.release(options as never))
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error.argument).toBe('options')
    expect(handle.held).toBe(true)
    await handle.release()
  })
})

describe('Lock and LockHandle', () => {
  it('report their mode and their kind', async () => {
    const locks = createLockManager()
    const seen = await locks.request('x', { mode: 'shared' }, (lock) => [lock.mode, Object.prototype.toString.call(lock)])
    expect(seen).toEqual(['shared', '[object Lock]'])
    const handle = await locks.acquire('x')
    expect([handle.mode, Object.prototype.toString.call(handle)]).toEqual(['exclusive', '[object LockHandle]'])
    await handle.release()
  })
})
