import diagnostics from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { LockError } from '../errors.js'
import {
  channelNames,
  type AcquiredEvent,
  type LostEvent,
  type NotAcquiredEvent,
  type ReleasedEvent,
  type StoreErrorEvent,
} from '../events.js'
import { checkOptions, invalid } from '../validate.js'
import { labeller, type NamePatterns } from './name-patterns.js'

/** The part of an OpenTelemetry `Meter` used here (`@opentelemetry/api`'s fits; nothing is imported from it at type level). */
export interface MeterLike {
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): {
    record(value: number, attributes?: Record<string, string | number | boolean>): void
  }
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    add(value: number, attributes?: Record<string, string | number | boolean>): void
  }
}

export interface LockMetricsOptions {
  /**
   * How lock names become the `cachelock.lock.pattern` attribute. Metric backends keep one series
   * per attribute value, so raw names (`order:1`, `order:2`, … one per row) would grow without
   * bound: map them onto a few labels instead. Glob patterns (`*` any run, `?` one character):
   * a name gets the first pattern it matches, and `other` when none. Or a function from a name to
   * a label; it must return few distinct values.
   * @default [] (every lock is `other`)
   * @example ['order:*', 'sku:*', 'report']
   */
  patterns?: NamePatterns
  /**
   * The meter to record on. Unset: `@opentelemetry/api`'s global meter provider (whatever SDK the
   * app registered; without one, OpenTelemetry's no-op meter and nothing is recorded).
   * @default metrics.getMeter('@cachelock/core')
   */
  meter?: MeterLike
}

/** Recording in progress; `stop()` unsubscribes. */
export interface LockMetrics {
  stop(): void
}

const optionNames = new Set(['patterns', 'meter'])
/** Seconds: lock waits run from sub-millisecond handoffs to minutes in a queue. */
const WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const HOLD_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

/**
 * Record cachelock's metrics through OpenTelemetry, from the `node:diagnostics_channel` events every
 * lock manager in this process publishes: wait and hold time, acquisitions, timeouts, losses and
 * store errors, per lock-name pattern.
 *
 * | instrument | kind, unit | attributes |
 * |---|---|---|
 * | `cachelock.lock.wait.duration` | histogram, s | pattern, mode |
 * | `cachelock.lock.hold.duration` | histogram, s | pattern, mode |
 * | `cachelock.lock.acquisitions` | counter | pattern, mode, `cachelock.lock.stolen` |
 * | `cachelock.lock.timeouts` | counter | pattern, mode |
 * | `cachelock.lock.losses` | counter | pattern, mode, `cachelock.lock.lost_reason` |
 * | `cachelock.store.errors` | counter | pattern, `cachelock.store.operation`, `cachelock.error.code` |
 *
 * @example
 * startLockMetrics({ patterns: ['order:*', 'sku:*'] })
 */
export function startLockMetrics(options: LockMetricsOptions = {}): LockMetrics {
  const given = checkOptions(options, 'options', optionNames) as LockMetricsOptions
  const label = labeller(given.patterns ?? [], 'options.patterns')
  const meter = given.meter ?? globalMeter()
  if (typeof meter?.createHistogram !== 'function' || typeof meter.createCounter !== 'function') {
    throw invalid('options.meter', 'an OpenTelemetry Meter', meter)
  }
  const waits = meter.createHistogram('cachelock.lock.wait.duration', {
    description: 'Time from a lock request to its grant',
    unit: 's',
    advice: { explicitBucketBoundaries: WAIT_BUCKETS },
  })
  const holds = meter.createHistogram('cachelock.lock.hold.duration', {
    description: 'Time a lock was held, from grant to release',
    unit: 's',
    advice: { explicitBucketBoundaries: HOLD_BUCKETS },
  })
  const acquisitions = meter.createCounter('cachelock.lock.acquisitions', { description: 'Locks granted (stolen ones included)' })
  const timeouts = meter.createCounter('cachelock.lock.timeouts', {
    description: 'Lock requests that gave up waiting (timeout or AbortSignal.timeout)',
  })
  const losses = meter.createCounter('cachelock.lock.losses', {
    description: 'Held locks lost: expired, stolen, force-released, store unreachable',
  })
  const storeErrors = meter.createCounter('cachelock.store.errors', { description: 'Failed store calls' })

  const base = (event: { name: string; mode: string }) => ({
    'cachelock.lock.pattern': label(event.name),
    'cachelock.lock.mode': event.mode,
  })
  const handlers: [string, (message: unknown) => void][] = [
    [
      channelNames.acquired,
      (message) => {
        const event = message as AcquiredEvent
        waits.record(event.waitMs / 1000, base(event))
        acquisitions.add(1, { ...base(event), 'cachelock.lock.stolen': event.stolen })
      },
    ],
    [
      channelNames.released,
      (message) => {
        const event = message as ReleasedEvent
        holds.record(event.heldMs / 1000, base(event))
      },
    ],
    [
      channelNames.notAcquired,
      (message) => {
        const event = message as NotAcquiredEvent
        if (event.reason === 'timeout') timeouts.add(1, base(event))
      },
    ],
    [
      channelNames.lost,
      (message) => {
        const event = message as LostEvent
        losses.add(1, { ...base(event), 'cachelock.lock.lost_reason': event.error.reason })
      },
    ],
    [
      channelNames.storeError,
      (message) => {
        const event = message as StoreErrorEvent
        const code = event.error instanceof LockError ? event.error.code : errorCode(event.error)
        storeErrors.add(1, {
          'cachelock.lock.pattern': label(event.name),
          'cachelock.store.operation': event.operation,
          'cachelock.error.code': code,
        })
      },
    ],
  ]
  for (const [channel, handler] of handlers) diagnostics.subscribe(channel, handler)
  let stopped = false
  return {
    stop() {
      if (stopped) return
      stopped = true
      for (const [channel, handler] of handlers) diagnostics.unsubscribe(channel, handler)
    },
  }
}

/** A bounded error label: a Node/ioredis `code` (`ECONNREFUSED`, `ETIMEDOUT`) when it is a short token, else the class name. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code)) return code
  return error instanceof Error ? error.name : 'unknown'
}

function globalMeter(): MeterLike {
  let api: { metrics: { getMeter(name: string): MeterLike } }
  try {
    api = createRequire(import.meta.url)('@opentelemetry/api') as typeof api
  } catch (cause) {
    throw new LockError(
      'startLockMetrics needs @opentelemetry/api: install it next to @cachelock/core (npm install @opentelemetry/api), or pass options.meter',
      {
        cause,
      },
    )
  }
  return api.metrics.getMeter('@cachelock/core')
}
