import type { LockManager } from '@cachelock/core'
import type { LockSubject } from './subject.js'

/** cachelock through `withLock`, the form most code uses (auto-extend on, as by default). */
export function cachelockWithLock(locks: LockManager, label = 'cachelock withLock', id = 'cachelock'): LockSubject {
  return {
    id,
    label,
    async run(key, critical, signal) {
      await locks.withLock(key, critical, signal ? { signal } : undefined)
    },
  }
}

/** cachelock through a handle (`acquire()` … `release()`), which adds the finalizer registration. */
export function cachelockHandle(locks: LockManager): LockSubject {
  return {
    id: 'cachelock-handle',
    label: 'cachelock acquire/release',
    async run(key, critical, signal) {
      const handle = await locks.acquire(key, signal ? { signal } : undefined)
      try {
        await critical()
      } finally {
        await handle.release()
      }
    },
  }
}
