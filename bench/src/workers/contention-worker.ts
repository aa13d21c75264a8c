import { createLockManager, type LockManager } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import type { Redis } from 'ioredis'
import { openRedis } from '../clients/redis.js'
import { serveRequests } from '../runner/worker-process.js'
import { cachelockWithLock } from '../subjects/cachelock.js'
import { redisPeer } from '../subjects/redis-peers.js'
import type { LockSubject } from '../subjects/subject.js'
import type { BurstResult, ContentionRequest, ContentionSubject, LoopResult, OnceResult } from './contention-protocol.js'

/**
 * One app server of the contention cases: one Redis connection and one lock manager per process,
 * as an app would have, and several callers in this process wanting the same lock (empty critical
 * section), either in a loop until a window closes or once each, all at the same moment.
 */
let redis: Redis | undefined
let locks: LockManager | undefined
const subjects = new Map<ContentionSubject, LockSubject>()

async function handle(request: ContentionRequest): Promise<unknown> {
  switch (request.type) {
    case 'init':
      redis = await openRedis(request.redisUrl)
      locks = createLockManager({ store: new RedisStore(redis), prefix: `${request.namespace}:` })
      return 'ready'
    case 'loop':
      return loop(subjectFor(request.subject), request.key, request.waiters, request.durationMs)
    case 'burst':
      return burst(subjectFor(request.subject), request.key, request.waiters)
    case 'once':
      return once(subjectFor(request.subject), request.key)
    case 'wake':
      return wake(request.channel)
  }
}

function subjectFor(id: ContentionSubject): LockSubject {
  if (!redis || !locks) throw new Error('contention worker: init first')
  let subject = subjects.get(id)
  if (!subject) subjects.set(id, (subject = id === 'cachelock' ? cachelockWithLock(locks) : redisPeer(id, redis)))
  return subject
}

async function loop(subject: LockSubject, key: string, waiters: number, durationMs: number): Promise<LoopResult> {
  const window = new AbortController()
  const closesAt = performance.now() + durationMs
  const timer = setTimeout(() => window.abort(), durationMs)
  const perCaller = Array.from({ length: waiters }, () => 0)
  const failures = new Failures()
  await Promise.all(
    perCaller.map(async (_, caller) => {
      // Counted at entry: a grant is the moment a caller may start its work.
      const critical = () => {
        if (performance.now() < closesAt) perCaller[caller]!++
      }
      while (!window.signal.aborted) {
        try {
          // cachelock stops waiting when the window closes; peers take no signal and finish their try.
          await subject.run(key, critical, window.signal)
        } catch (error) {
          if (window.signal.aborted) break
          failures.add(error)
        }
      }
    }),
  )
  clearTimeout(timer)
  return { perCaller, failures: failures.count, errors: failures.names(), drainMs: Math.max(0, performance.now() - closesAt) }
}

async function once(subject: LockSubject, key: string): Promise<OnceResult> {
  let runningAt = 0n
  await subject.run(key, () => {
    runningAt = process.hrtime.bigint()
  })
  return { runningAt: String(runningAt) }
}

let subscriber: Redis | undefined

async function wake(channel: string): Promise<OnceResult> {
  if (!redis) throw new Error('contention worker: init first')
  subscriber ??= redis.duplicate()
  const client = redis
  const listener = subscriber
  const woken = new Promise<void>((resolve) => {
    const onMessage = (from: string) => {
      if (from !== channel) return
      listener.off('message', onMessage)
      resolve()
    }
    listener.on('message', onMessage)
  })
  await listener.subscribe(channel)
  await woken
  await client.ping()
  const runningAt = process.hrtime.bigint()
  await listener.unsubscribe(channel)
  return { runningAt: String(runningAt) }
}

/** A burst that has not served every caller after this long is cut short (a broken library must not hang the bench). */
const BURST_LIMIT_MS = 30_000

async function burst(subject: LockSubject, key: string, waiters: number): Promise<BurstResult> {
  const failures = new Failures()
  const started = performance.now()
  let unserved = 0
  await Promise.all(
    Array.from({ length: waiters }, async () => {
      // A caller whose library gave up asks again, as a request handler would retry: it still
      // needs the lock, and the burst is over only when every caller has had it.
      for (;;) {
        try {
          await subject.run(key, noop)
          return
        } catch (error) {
          failures.add(error)
          if (performance.now() - started > BURST_LIMIT_MS) {
            unserved++
            return
          }
        }
      }
    }),
  )
  return { makespanMs: performance.now() - started, failures: failures.count, errors: failures.names(), unserved }
}

class Failures {
  count = 0
  readonly #names = new Set<string>()

  add(error: unknown): void {
    this.count++
    this.#names.add(error instanceof Error ? error.name : String(error))
  }

  names(): string[] {
    return [...this.#names]
  }
}

function noop(): void {}

serveRequests(handle)
