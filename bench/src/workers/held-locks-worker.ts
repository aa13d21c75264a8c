import diagnostics from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { channelNames, createLockManager, type ExtendedEvent, type LockHandle, type LockManager } from '@cachelock/core'
import { RedisStore, type RedisClient } from '@cachelock/core/redis'
import type { Redis } from 'ioredis'
import { openRedis } from '../clients/redis.js'
import { serveRequests } from '../runner/worker-process.js'
import type { HeldLocksRequest, HeldLocksResult } from './held-locks-protocol.js'

/**
 * Holds many locks at once with auto-extend and counts what that costs: heap per lock, and the
 * renewal traffic it sends to Redis. Runs in its own process, started with `--expose-gc`, so the
 * heap holds nothing but this and a forced GC gives stable readings.
 */
const gc = (globalThis as { gc?: () => void }).gc

/** Acquisitions in flight at once while taking thousands of locks (one connection pipelines them). */
const ACQUIRE_CONCURRENCY = 200

async function run(request: HeldLocksRequest): Promise<HeldLocksResult> {
  if (!gc) throw new Error('held-locks worker needs --expose-gc')
  const redis = await openRedis(request.redisUrl)
  let commands = 0
  const locks = createLockManager({ store: new RedisStore(counting(redis, () => commands++)), prefix: `${request.namespace}:held:` })
  let renewals = 0
  let lost = 0
  const onExtended = (event: unknown) => {
    if ((event as ExtendedEvent).automatic) renewals++
  }
  const onLost = () => lost++
  diagnostics.subscribe(channelNames.extended, onExtended)
  diagnostics.subscribe(channelNames.lost, onLost)
  try {
    // Heap per lock: warm everything up with a few locks first, so the measurement holds only
    // what each further lock costs (not the code, the subscriber, the script cache).
    const warm = await acquireAll(locks, 100, request.configs[0]!.ttlMs, 'warm')
    await releaseAll(warm)
    const first = request.configs[0]!
    const before = heapAfterGc()
    let handles = await acquireAll(locks, first.locks, first.ttlMs, 'c0')
    const heapBytesPerLock = (heapAfterGc() - before) / first.locks

    const results: HeldLocksResult['configs'] = []
    for (const [index, config] of request.configs.entries()) {
      let acquireMs = 0
      if (index > 0) {
        await releaseAll(handles)
        const started = performance.now()
        handles = await acquireAll(locks, config.locks, config.ttlMs, `c${index}`)
        acquireMs = performance.now() - started
      }
      // Renewals come every ttl/3 after each grant, and the grants were just made: start counting
      // half a period later, so no renewal falls on the window's edges.
      await sleep(config.ttlMs / 6)
      renewals = 0
      lost = 0
      commands = 0
      await sleep(request.windowMs)
      results.push({ ...config, renewals, commands, lost, acquireMs })
    }
    await releaseAll(handles)
    return { heapBytesPerLock, heapLocks: first.locks, configs: results }
  } finally {
    diagnostics.unsubscribe(channelNames.extended, onExtended)
    diagnostics.unsubscribe(channelNames.lost, onLost)
    await locks.close()
    redis.disconnect()
  }
}

async function acquireAll(locks: LockManager, count: number, ttl: number, tag: string): Promise<LockHandle[]> {
  const handles: LockHandle[] = new Array<LockHandle>(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(ACQUIRE_CONCURRENCY, count) }, async () => {
      while (next < count) {
        const index = next++
        handles[index] = await locks.acquire(`${tag}:${index}`, { ttl })
      }
    }),
  )
  return handles
}

async function releaseAll(handles: LockHandle[]): Promise<void> {
  for (let i = 0; i < handles.length; i += ACQUIRE_CONCURRENCY)
    await Promise.all(handles.slice(i, i + ACQUIRE_CONCURRENCY).map((h) => h.release()))
}

function heapAfterGc(): number {
  // Twice: the first pass runs finalizers that free more on the second.
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

/** The client, with every script call counted: the store's whole traffic goes through `evalsha`/`eval`. */
function counting(redis: Redis, count: () => void): RedisClient {
  return {
    evalsha: (...args: Parameters<RedisClient['evalsha']>) => {
      count()
      return redis.evalsha(...args)
    },
    eval: (...args: Parameters<RedisClient['eval']>) => {
      count()
      return redis.eval(...args)
    },
    duplicate: () => redis.duplicate(),
    options: redis.options,
    // A standalone server: the store may batch renewals into one script.
    isCluster: redis.isCluster,
  }
}

serveRequests(run)
