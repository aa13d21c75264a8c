import { checkBoolean, checkDuration, checkFunction, checkOptions, invalid } from '../../validate.js'

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000
export const DEFAULT_WAIT_TIMEOUT_MS = 1000

const storeOptionNames = new Set([
  'commandTimeoutMs',
  'fenceTtlFactor',
  'subscriberIdleMs',
  'waiterLivenessPolls',
  'handoffGraceMs',
  'handOver',
  'waitReplicas',
  'waitTimeoutMs',
  'closeClient',
  'lastError',
])

/** Validate `RedisStore` options (before any connection is made for them). */
export function checkRedisStoreOptions(options: unknown, known: ReadonlySet<string> = storeOptionNames): void {
  const given = checkOptions(options, 'options', known) as RedisStoreOptions
  const check = (name: keyof RedisStoreOptions, rule: { zero?: boolean; max?: number } = {}) => {
    const value = given[name]
    if (value !== undefined) checkDuration(value, `options.${name}`, rule)
  }
  // Durations are timer delays; the fence factor multiplies a ttl into a PX argument (an integer).
  check('commandTimeoutMs', { zero: true })
  check('subscriberIdleMs', { zero: true })
  check('handoffGraceMs', { zero: true })
  if (given.handOver !== undefined) checkBoolean(given.handOver, 'options.handOver')
  check('fenceTtlFactor', { max: 1000 })
  check('waiterLivenessPolls', { max: 1000 })
  check('waitTimeoutMs')
  if (given.waitReplicas !== undefined && (!Number.isInteger(given.waitReplicas) || given.waitReplicas < 0 || given.waitReplicas > 100)) {
    throw invalid('options.waitReplicas', 'an integer from 0 to 100 (replicas that must acknowledge a grant)', given.waitReplicas)
  }
  const commandTimeout = given.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  const waitTimeout = given.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
  if ((given.waitReplicas ?? 0) > 0 && commandTimeout > 0 && waitTimeout >= commandTimeout) {
    throw invalid(
      'options.waitTimeoutMs',
      `less than options.commandTimeoutMs (${commandTimeout}), which would cut WAIT short`,
      waitTimeout,
    )
  }
  if (given.closeClient !== undefined) checkBoolean(given.closeClient, 'options.closeClient')
  if (given.lastError !== undefined) checkFunction(given.lastError, 'options.lastError')
}

/** Options of `new RedisStore(client, options)`. */
export interface RedisStoreOptions {
  /**
   * Reject a Redis call that has not answered after this many ms, with a `RedisTimeoutError`
   * (0: rely on the client's own limits). A backstop for clients that would otherwise queue a
   * command indefinitely while disconnected: ioredis with `maxRetriesPerRequest: null` (as BullMQ
   * requires), or a Cluster that keeps reconnecting. A timed-out call may still run later; a late
   * grant then expires after its ttl.
   * @default 10000
   */
  commandTimeoutMs?: number
  /**
   * How long the fencing counter of a lock outlives its last grant, as a multiple of that grant's
   * ttl. Tokens keep growing after the counter expires (they are seeded from Redis's clock in µs);
   * the counter only guards against Redis's clock stepping back. Larger keeps that guard longer,
   * smaller frees memory sooner when locks are taken on millions of distinct names.
   * @default 10
   */
  fenceTtlFactor?: number
  /**
   * Keep the subscriber connection this many ms after the last waiter stopped listening, so a lock
   * that is contended now and then does not reconnect each time.
   * @default 2000
   */
  subscriberIdleMs?: number
  /**
   * A waiting manager that stops asking is forgotten after this many of its poll intervals
   * (`AcquireRequest.pollMs`), plus 100 ms: it no longer holds a turn in the fairness queue nor
   * attracts wake-up messages, and is no longer among the lock's `waiters` (what `query()` lists).
   * @default 2
   */
  waiterLivenessPolls?: number
  /**
   * How long a free lock is kept for the longest-waiting manager before others may take it. A
   * release hands the lock to that manager's parked request for at most this long (its claim);
   * a live waiter renews it to its own ttl at once, so this only bounds the stall when that waiter
   * died or gave up.
   * @default 500
   */
  handoffGraceMs?: number
  /**
   * Grant a released lock to the longest-waiting manager inside the release script (a claim of at
   * most `handoffGraceMs` until it renews), saving the waiter's acquire round trip. Off by default
   * for now: while a waiter that just gave up still holds its turn, the lock shows as held (its
   * claim) right after a release, for up to `handoffGraceMs`.
   * @default false
   */
  handOver?: boolean
  /**
   * Replicas that must acknowledge a grant before the caller is told it holds the lock (Redis
   * `WAIT`, sent behind the grant script in the same round trip). Redis replicates asynchronously:
   * without this, a primary that dies right after a grant can be replaced by a replica that never
   * had the lock, and a second client gets it. A grant that fewer replicas acknowledged within
   * `waitTimeoutMs` is released and rejected with `LockNotReplicatedError`; a renewal that fewer
   * acknowledged rejects the same way and does not count as confirmed (the lock is lost if that
   * lasts a whole ttl). 0 turns it off. Costs one primary → replica round trip per acquire, steal
   * and renewal. Needs a client with `pipeline()` (ioredis).
   * @default 0
   */
  waitReplicas?: number
  /**
   * How long `WAIT` may block for `waitReplicas` acknowledgements, in ms. Must be less than
   * `commandTimeoutMs`.
   * @default 1000
   */
  waitTimeoutMs?: number
  /**
   * The store owns `client`: it reopens it when ioredis ends it on its own (see `revive.ts`), and
   * ends it in `close()`. For a client made for this store only (as `redisStoreFromUrl` does);
   * leave it off for the app's own client.
   * @default false
   */
  closeClient?: boolean
  /** The client's last connection error, named in timeout messages. Set by `redisStoreFromUrl`. */
  lastError?: () => unknown
}
