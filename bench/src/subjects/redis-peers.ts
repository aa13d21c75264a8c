import { Redlock } from '@sesamecare-oss/redlock'
import type { Redis } from 'ioredis'
import { Mutex } from 'redis-semaphore'
import { createLock, IoredisAdapter, type Lock as UniversalLock } from 'redlock-universal'
import type { LockSubject } from './subject.js'

/**
 * The peers, each through its cheapest acquire/release path and with its default settings (retry
 * interval, retry count, auto-refresh), as a user who installs it gets it. None of them waits for
 * a release notification: a waiter polls at its retry interval, and gives up after its retry limit
 * (those rejections are counted by the contention case, not hidden).
 */
export const PEER_IDS = ['redis-semaphore', 'redlock-universal', 'sesamecare-redlock'] as const
export type PeerId = (typeof PEER_IDS)[number]

export const PEER_LABELS: Record<PeerId, string> = {
  'redis-semaphore': 'redis-semaphore Mutex',
  'redlock-universal': 'redlock-universal',
  'sesamecare-redlock': '@sesamecare-oss/redlock',
}

export function redisPeer(id: PeerId, redis: Redis): LockSubject {
  switch (id) {
    case 'redis-semaphore':
      return redisSemaphore(redis)
    case 'redlock-universal':
      return redlockUniversal(redis)
    case 'sesamecare-redlock':
      return sesamecareRedlock(redis)
  }
}

/** redis-semaphore `Mutex`: one object per acquisition, as its README shows; retries every 10 ms for up to 10 s, refreshes every 8 s. */
function redisSemaphore(redis: Redis): LockSubject {
  return {
    id: 'redis-semaphore',
    label: PEER_LABELS['redis-semaphore'],
    async run(key, critical) {
      const mutex = new Mutex(redis, key)
      await mutex.acquire()
      try {
        await critical()
      } finally {
        await mutex.release()
      }
    },
  }
}

/** redlock-universal `createLock` (one lock object per key, reused): 3 retries 100 ms apart. */
function redlockUniversal(redis: Redis): LockSubject {
  const adapter = new IoredisAdapter(redis)
  const locks = new Map<string, UniversalLock>()
  return {
    id: 'redlock-universal',
    label: PEER_LABELS['redlock-universal'],
    async run(key, critical) {
      let lock = locks.get(key)
      if (!lock) locks.set(key, (lock = createLock({ adapter, key })))
      const handle = await lock.acquire()
      try {
        await critical()
      } finally {
        await lock.release(handle)
      }
    },
  }
}

/** @sesamecare-oss/redlock (the maintained node-redlock) on one Redis: 10 retries 200 ms ± 100 ms apart. */
function sesamecareRedlock(redis: Redis): LockSubject {
  const redlock = new Redlock([redis])
  // Redlock is an EventEmitter that emits `error` for every failed vote (a refused attempt);
  // without a listener Node would throw them.
  redlock.on('error', () => undefined)
  return {
    id: 'sesamecare-redlock',
    label: PEER_LABELS['sesamecare-redlock'],
    async run(key, critical) {
      const lock = await redlock.acquire([key], 30_000)
      try {
        await critical()
      } finally {
        await lock.release()
      }
    },
  }
}
