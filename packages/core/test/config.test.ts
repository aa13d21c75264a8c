import { afterEach, describe, expect, it } from 'vitest'
import { LockManager, MemoryStore, OpenStore, configure, createLockManager, createStore, defaultLockManager } from '@cachelock/core'

const slot = Symbol.for('cachelock.defaultLockManager')

describe('configure and createStore', () => {
  afterEach(() => {
    delete (globalThis as Record<symbol, unknown>)[slot]
    delete process.env.CACHELOCK_URL
  })

  it('configure sets the process-wide default with the shared options', () => {
    const manager = configure({ prefix: 'app:lock:', sleep: 25, ttl: 5000 })
    expect(defaultLockManager()).toBe(manager)
    expect(manager.prefix).toBe('app:lock:')
    expect(manager.sleep).toBe(25)
    expect(manager.keyFor('x')).toBe('app:lock:x')
  })

  it('configure accepts a ready manager, and a store URL', () => {
    const manager = createLockManager()
    expect(configure(manager)).toBe(manager)
    expect(configure({ store: 'open://' }).store).toBeInstanceOf(OpenStore)
  })

  it('defaults to CACHELOCK_URL, else to memory', () => {
    process.env.CACHELOCK_URL = 'open://'
    expect(defaultLockManager().store).toBeInstanceOf(OpenStore)
    delete (globalThis as Record<symbol, unknown>)[slot]
    delete process.env.CACHELOCK_URL
    const fallback = defaultLockManager()
    expect(fallback).toBeInstanceOf(LockManager)
    expect(fallback.store).toBeInstanceOf(MemoryStore)
    expect(fallback.prefix).toBe('lock:')
    expect(fallback.sleep).toBe(100)
  })

  it('creates the embedded stores from URLs', () => {
    expect(createStore('memory://')).toBeInstanceOf(MemoryStore)
    expect(createStore(new URL('open://'))).toBeInstanceOf(OpenStore)
  })
})
