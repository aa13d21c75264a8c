import { metrics } from '@opentelemetry/api'
import { afterEach, describe, expect, test } from 'vitest'
import { LockLostError, LockNotAcquiredError, MemoryStore, createLockManager, startLockMetrics, type LockMetrics } from '../../src/index.js'
import { count, histogram, memorySdk } from './otel.js'

const REDIS_URL = process.env['CACHELOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let recording: LockMetrics | undefined
let sdk: ReturnType<typeof memorySdk> | undefined
afterEach(async () => {
  recording?.stop()
  await sdk?.shutdown()
  metrics.disable()
})

function record(patterns: string[] = ['order:*', 'sku:*']) {
  sdk = memorySdk()
  recording = startLockMetrics({ patterns, meter: sdk.provider.getMeter('test') })
  return sdk
}

const order = { 'cachelock.lock.pattern': 'order:*', 'cachelock.lock.mode': 'exclusive' }

describe('startLockMetrics (OpenTelemetry, in-memory exporter)', () => {
  test('acquisitions, wait and hold time, per name pattern', async () => {
    const { points } = record()
    const locks = createLockManager({ store: new MemoryStore(), sleep: 5 })
    const first = await locks.acquire('order:1')
    const waiting = locks.acquire('order:1')
    await sleep(30)
    const heldFrom = performance.now()
    await first.release()
    const second = await waiting
    await sleep(20)
    await second.release()
    const heldFor = performance.now() - heldFrom
    await locks.withLock('sku:9', () => undefined)
    await locks.withLock('report', () => undefined, { mode: 'shared' })

    const acquired = await points('cachelock.lock.acquisitions')
    expect(count(acquired, { ...order, 'cachelock.lock.stolen': false })).toBe(2)
    expect(count(acquired, { 'cachelock.lock.pattern': 'sku:*', 'cachelock.lock.mode': 'exclusive', 'cachelock.lock.stolen': false })).toBe(
      1,
    )
    expect(count(acquired, { 'cachelock.lock.pattern': 'other', 'cachelock.lock.mode': 'shared', 'cachelock.lock.stolen': false })).toBe(1)
    const waits = histogram(await points('cachelock.lock.wait.duration'), order)!
    expect(waits.count).toBe(2)
    // The second request waited at least the 30 ms the first held the lock (seconds), less the
    // up to 1 ms by which Node's millisecond timers may fire early against performance.now().
    expect(waits.max).toBeGreaterThanOrEqual(0.029)
    const holds = histogram(await points('cachelock.lock.hold.duration'), order)!
    expect(holds.count).toBe(2)
    expect(holds.sum).toBeGreaterThanOrEqual(0.03 + 0.02)
    expect(holds.sum).toBeLessThan(heldFor / 1000 + 0.03 + 1)
  })

  test('timeouts: a timeout that ran out, and an AbortSignal.timeout; not an ifAvailable refusal', async () => {
    const { points } = record()
    const locks = createLockManager({ store: new MemoryStore(), sleep: 5 })
    const held = await locks.acquire('order:2')
    await expect(locks.acquire('order:2', { timeout: 20 })).rejects.toBeInstanceOf(LockNotAcquiredError)
    await expect(locks.withLock('order:2', () => undefined, { signal: AbortSignal.timeout(20) })).rejects.toMatchObject({
      name: 'TimeoutError',
    })
    expect(await locks.tryAcquire('order:2')).toBeNull()
    await expect(locks.acquire('order:2', { ifAvailable: true })).rejects.toBeInstanceOf(LockNotAcquiredError)
    const aborted = new AbortController()
    const waiting = locks.acquire('order:2', { signal: aborted.signal })
    aborted.abort(new Error('changed my mind'))
    await expect(waiting).rejects.toThrow('changed my mind')
    await held.release()
    expect(count(await points('cachelock.lock.timeouts'), order)).toBe(2)
  })

  test('losses, by reason', async () => {
    const { points } = record()
    const locks = createLockManager({ store: new MemoryStore(), sleep: 5 })
    const victim = await locks.acquire('order:3')
    const thief = await locks.acquire('order:3', { steal: true })
    expect(victim.signal.reason).toBeInstanceOf(LockLostError)
    await thief.release()
    const expiring = await locks.acquire('sku:1', { ttl: 30, autoExtend: false })
    await new Promise((resolve) => expiring.signal.addEventListener('abort', resolve, { once: true }))
    const losses = await points('cachelock.lock.losses')
    expect(count(losses, { ...order, 'cachelock.lock.lost_reason': 'stolen' })).toBe(1)
    expect(
      count(losses, { 'cachelock.lock.pattern': 'sku:*', 'cachelock.lock.mode': 'exclusive', 'cachelock.lock.lost_reason': 'expired' }),
    ).toBe(1)
    expect(count(await points('cachelock.lock.acquisitions'), { ...order, 'cachelock.lock.stolen': true })).toBe(1)
  })

  test('store errors, by operation, from a real Redis client that cannot connect', async () => {
    const { points } = record()
    const locks = createLockManager({ store: 'redis://127.0.0.1:1' })
    try {
      await expect(locks.acquire('order:4')).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
      await expect(locks.isLocked('order:4')).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
      await expect(locks.forceRelease('sku:4')).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
    } finally {
      await locks.close()
    }
    const errors = await points('cachelock.store.errors')
    const total = (operation: string, pattern: string) =>
      errors
        .filter(
          (point) => point.attributes['cachelock.store.operation'] === operation && point.attributes['cachelock.lock.pattern'] === pattern,
        )
        .reduce((sum, point) => sum + (point.value as number), 0)
    expect(total('acquire', 'order:*')).toBe(1)
    expect(total('query', 'order:*')).toBe(1)
    expect(total('force-release', 'sku:*')).toBe(1)
    // The error label is a bounded code or class name, never a message.
    for (const point of errors) expect(String(point.attributes['cachelock.error.code'])).toMatch(/^[A-Za-z0-9_]{1,40}$/)
  })

  test('renewals that fail are store errors too (operation "renew"), from a Redis that stops answering', async () => {
    const { points } = record()
    // The client is disconnected for good (no offline queue): every renewal then fails at once.
    const { RedisStore } = await import('../../src/stores/redis/index.js')
    const { Redis } = await import('ioredis')
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true })
    await client.connect()
    const locks = createLockManager({ store: new RedisStore(client), ttl: 300 })
    const held = await locks.acquire('order:5')
    client.disconnect()
    await new Promise((resolve) => held.signal.addEventListener('abort', resolve, { once: true }))
    await locks.close()
    const renewals = (await points('cachelock.store.errors')).filter((point) => point.attributes['cachelock.store.operation'] === 'renew')
    expect(renewals.reduce((sum, point) => sum + (point.value as number), 0)).toBeGreaterThanOrEqual(1)
    expect(count(await points('cachelock.lock.losses'), { ...order, 'cachelock.lock.lost_reason': 'store-unreachable' })).toBe(1)
  })

  test('cardinality stays bounded: 200 distinct names, 2 series', async () => {
    const { points } = record(['order:*'])
    const locks = createLockManager({ store: new MemoryStore() })
    for (let i = 0; i < 100; i++) await locks.withLock(`order:${i}`, () => undefined)
    for (let i = 0; i < 100; i++) await locks.withLock(`invoice:${i}`, () => undefined)
    const acquired = await points('cachelock.lock.acquisitions')
    expect(acquired.map((point) => point.attributes['cachelock.lock.pattern']).sort()).toEqual(['order:*', 'other'])
    expect(count(acquired, { ...order, 'cachelock.lock.stolen': false })).toBe(100)
  })

  test('a function may label names; stop() ends recording', async () => {
    sdk = memorySdk()
    recording = startLockMetrics({ patterns: (name) => name.split(':')[0]!, meter: sdk.provider.getMeter('test') })
    const locks = createLockManager({ store: new MemoryStore() })
    await locks.withLock('tenant:7', () => undefined)
    recording.stop()
    await locks.withLock('tenant:8', () => undefined)
    const acquired = await sdk.points('cachelock.lock.acquisitions')
    expect(
      count(acquired, { 'cachelock.lock.pattern': 'tenant', 'cachelock.lock.mode': 'exclusive', 'cachelock.lock.stolen': false }),
    ).toBe(1)
  })

  test('without options.meter it records on the global meter provider; with no SDK registered it is a no-op', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    recording = startLockMetrics({ patterns: ['order:*'] })
    await locks.withLock('order:6', () => undefined) // no SDK yet: nothing to see, nothing fails
    recording.stop()
    sdk = memorySdk()
    metrics.setGlobalMeterProvider(sdk.provider)
    recording = startLockMetrics({ patterns: ['order:*'] })
    await locks.withLock('order:6', () => undefined)
    expect(count(await sdk.points('cachelock.lock.acquisitions'), { ...order, 'cachelock.lock.stolen': false })).toBe(1)
  })

  test('bad options are refused, naming them', () => {
    expect(() => startLockMetrics({ patterns: 'order:*' as never })).toThrow(/`options.patterns` to be an array of name patterns/)
    expect(() => startLockMetrics({ meter: {} as never })).toThrow(/`options.meter` to be an OpenTelemetry Meter/)
    expect(() => startLockMetrics({ pattern: ['x'] } as never)).toThrow(/options.pattern/)
  })
})
