import { randomBytes } from 'node:crypto'
import { LockNotReplicatedError } from '../../errors.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, LockStore, StealRequest, Unsubscribe } from '../../store.js'
import { checkBoolean, checkDuration, checkFunction, checkOptions, invalid } from '../../validate.js'
import { ScriptRunner, type RedisArgument, type RedisClient } from './client.js'
import { lockKeys, type LockKeys, type RedisKey } from './keys.js'
import { ACQUIRE, EXTEND, FORCE_RELEASE, HOLDERS, LISTEN, RELEASE, STEAL, type LuaScript } from './scripts.js'
import { INTEREST_TTL_MS, WakeUps } from './wake-ups.js'

const storeOptionNames = new Set([
  'commandTimeoutMs',
  'fenceTtlFactor',
  'subscriberIdleMs',
  'waiterLivenessPolls',
  'handoffGraceMs',
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
   * attracts wake-up messages.
   * @default 2
   */
  waiterLivenessPolls?: number
  /**
   * How long a free lock is kept for the longest-waiting manager before others may take it. A woken
   * waiter claims it within a round trip; this only bounds the stall when that waiter gave up.
   * @default 500
   */
  handoffGraceMs?: number
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
   * Also end `client` in `close()`. For a client made for this store only (as `redisStoreFromUrl`
   * does); leave it off for the app's own client.
   * @default false
   */
  closeClient?: boolean
  /** The client's last connection error, named in timeout messages. Set by `redisStoreFromUrl`. */
  lastError?: () => unknown
}

/**
 * Locks in Redis, over the app's existing ioredis `Redis` or `Cluster` (or any client with the
 * `RedisClient` shape).
 *
 * Every operation is one Lua script (one round trip: acquire, release, extend, steal, force
 * release, holders); expiry is decided by Redis's clock; all keys of a lock share a hash tag, so it
 * works on a Cluster; the client's `keyPrefix` is honoured. Waiters are woken by pub/sub on release
 * and served fairly across processes. See `keys.ts` for the keys it creates and their lifetimes.
 *
 * The client decides how failures surface: its calls reject with the client's own error, which
 * the manager wraps in a `LockError`. Give it bounded retries (ioredis: the default
 * `maxRetriesPerRequest`, or 1 for fast failure; keep `enableOfflineQueue` on so calls made while
 * connecting wait for the connection); `commandTimeoutMs` is the backstop.
 *
 * Redis replicates asynchronously: after a failover the new primary may not have a lock that was
 * just granted, and two holders can coexist briefly. Storage that must reject stale writers should
 * check the fencing token.
 *
 * @example
 * const redis = new Redis(process.env.REDIS_URL)
 * const locks = createLockManager({ store: new RedisStore(redis) })
 */
export class RedisStore implements LockStore {
  readonly #client: RedisClient
  readonly #scripts: ScriptRunner
  readonly #wakeUps: WakeUps
  readonly #channelPrefix: string
  readonly #fenceTtlFactor: number
  readonly #livenessPolls: number
  readonly #graceMs: number
  readonly #closeClient: boolean
  readonly #waitReplicas: number
  readonly #waitTimeoutMs: number
  readonly #keyCache = new Map<string, LockKeys>()

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    checkRedisStoreOptions(options)
    if (typeof client !== 'object' || client === null || typeof (client as { evalsha?: unknown }).evalsha !== 'function') {
      throw invalid('client', 'an ioredis Redis or Cluster client (or one with the same shape)', client)
    }
    this.#waitReplicas = options.waitReplicas ?? 0
    this.#waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
    if (this.#waitReplicas > 0 && typeof client.pipeline !== 'function') {
      throw invalid('client', 'a client with pipeline() (ioredis) for options.waitReplicas', client)
    }
    this.#client = client
    this.#scripts = new ScriptRunner(client, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, options.lastError ?? (() => undefined))
    // Marks this store as listening to a lock; distinct from every manager's clientId (hex only).
    const listenerId = `listener:${randomBytes(8).toString('hex')}`
    this.#wakeUps = new WakeUps(client, options.subscriberIdleMs ?? 2000, (alive, on) =>
      this.#scripts.run(LISTEN, [alive], [listenerId, on ? INTEREST_TTL_MS : 0]),
    )
    this.#channelPrefix = client.options?.keyPrefix ?? ''
    this.#fenceTtlFactor = options.fenceTtlFactor ?? 10
    this.#livenessPolls = options.waiterLivenessPolls ?? 2
    this.#graceMs = options.handoffGraceMs ?? 500
    this.#closeClient = options.closeClient ?? false
  }

  /** The client this store runs on. */
  get client(): RedisClient {
    return this.#client
  }

  /** Whether the subscriber connection for wake-ups is open right now. */
  get subscribed(): boolean {
    return this.#wakeUps.connected
  }

  /**
   * One attempt (one `EVALSHA`). A refusal's `retryInMs` is the blocking holder's remaining ttl by
   * Redis's clock, or, when the lock is free but kept for a longer-waiting manager, how long it
   * is kept for it.
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const keys = this.#keys(request.key)
    const ttl = wholeMs(request.ttlMs)
    const reply = (await this.#replicated(
      'acquire',
      request.key,
      ACQUIRE,
      [keys.exclusive, keys.shared, keys.fence, keys.queue, keys.alive],
      [
        request.owner,
        request.mode === 'shared' ? 's' : 'x',
        ttl,
        request.clientId,
        request.waiting ? '1' : '0',
        wholeMs(this.#livenessPolls * request.pollMs + 100),
        wholeMs(this.#fenceTtlFactor * ttl),
        wholeMs(this.#graceMs),
      ],
      (reply) => Number((reply as unknown[])[0]) === 1,
      request.owner,
    )) as [unknown, unknown]
    const value = Number(reply[1])
    if (Number(reply[0]) === 1) return { granted: true, fencingToken: value }
    return value >= 0 ? { granted: false, retryInMs: value } : { granted: false }
  }

  /** Owner-checked delete (one `EVALSHA`); publishes a wake-up when the lock is free and awaited. */
  async release(key: string, owner: string): Promise<boolean> {
    const keys = this.#keys(key)
    const reply = await this.#scripts.run(RELEASE, [keys.exclusive, keys.shared, keys.alive], [owner, keys.channel])
    return Number(reply) === 1
  }

  /** Owner-checked `PEXPIRE` (one `EVALSHA`). */
  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const keys = this.#keys(key)
    const reply = await this.#replicated(
      'extend',
      key,
      EXTEND,
      [keys.exclusive, keys.shared],
      [owner, wholeMs(ttlMs)],
      (r) => Number(r) === 1,
    )
    return Number(reply) === 1
  }

  /** Drops every holder and takes the lock exclusively (one `EVALSHA`), with a new fencing token. */
  async steal(request: StealRequest): Promise<Granted> {
    const keys = this.#keys(request.key)
    const ttl = wholeMs(request.ttlMs)
    const reply = await this.#replicated(
      'steal',
      request.key,
      STEAL,
      [keys.exclusive, keys.shared, keys.fence, keys.queue, keys.alive],
      [request.owner, ttl, request.clientId, wholeMs(this.#fenceTtlFactor * ttl), keys.channel],
      () => true,
      request.owner,
    )
    return { fencingToken: Number(reply) }
  }

  /** Drops every holder (one `EVALSHA`); resolves whether a live one existed. */
  async forceRelease(key: string): Promise<boolean> {
    const keys = this.#keys(key)
    const reply = await this.#scripts.run(FORCE_RELEASE, [keys.exclusive, keys.shared, keys.alive], [keys.channel])
    return Number(reply) === 1
  }

  /** The live holders with their remaining ttl by Redis's clock (one `EVALSHA`). */
  async holders(key: string): Promise<Holder[]> {
    const keys = this.#keys(key)
    const reply = (await this.#scripts.run(HOLDERS, [keys.exclusive, keys.shared], [])) as unknown[]
    const holders: Holder[] = []
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const remaining = Number(reply[i + 2])
      const holder: Holder = { owner: String(reply[i]), mode: reply[i + 1] === 'shared' ? 'shared' : 'exclusive' }
      if (remaining >= 0) holder.expiresInMs = remaining
      holders.push(holder)
    }
    return holders
  }

  /**
   * Wake-ups on release, steal and force release of `key`, over one subscriber connection per
   * store. Starting to listen costs one extra call (it marks the lock as listened to, so its
   * releases publish); releases of locks nobody waits for or listens to publish nothing.
   */
  onRelease(key: string, wake: () => void): Unsubscribe {
    return this.#wakeUps.listen(this.#keys(key), wake)
  }

  /** Close the subscriber connection, and the client when `closeClient` is set. */
  async close(): Promise<void> {
    this.#wakeUps.close()
    if (!this.#closeClient) return
    const client = this.#client
    if (client.quit && (client.status === undefined || client.status === 'ready')) {
      // QUIT waits for pending replies, but a server that stopped answering never replies.
      let timer: NodeJS.Timeout | undefined
      const gaveUp = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), QUIT_TIMEOUT_MS)
        timer.unref()
      })
      const quit = client.quit().then(
        () => true,
        () => false,
      )
      const quitted = await Promise.race([quit, gaveUp])
      clearTimeout(timer)
      if (quitted) return
    }
    client.disconnect?.()
  }

  /**
   * Run a script that may grant or renew, then (with `waitReplicas`) `WAIT` in the same round trip.
   * When `changed(reply)` says the script granted or renewed and too few replicas acknowledged it,
   * a grant (`owner` given) is released again, and either way the caller gets
   * `LockNotReplicatedError` instead of a lock a failover could lose.
   */
  async #replicated(
    operation: 'acquire' | 'steal' | 'extend',
    key: string,
    script: LuaScript,
    keys: RedisKey[],
    args: RedisArgument[],
    changed: (reply: unknown) => boolean,
    owner?: string,
  ): Promise<unknown> {
    if (this.#waitReplicas === 0) return this.#scripts.run(script, keys, args)
    const { reply, acknowledged } = await this.#scripts.runAndWait(script, keys, args, this.#waitReplicas, this.#waitTimeoutMs)
    if (acknowledged >= this.#waitReplicas || !changed(reply)) return reply
    // Given back on the primary; if this fails too, the grant expires after its ttl.
    if (owner !== undefined) await this.release(key, owner).catch(() => false)
    throw new LockNotReplicatedError({ key, operation, acknowledged, required: this.#waitReplicas, timeoutMs: this.#waitTimeoutMs })
  }

  /**
   * The keys of a lock, cached: a lock is acquired and released (and renewed, and waited for) under
   * the same key, and building its six keys checks and escapes the name each time.
   */
  #keys(key: string): LockKeys {
    let keys = this.#keyCache.get(key)
    if (keys === undefined) {
      // Bounded: apps that lock millions of distinct ids must not grow this map.
      if (this.#keyCache.size >= KEY_CACHE_SIZE) this.#keyCache.clear()
      keys = lockKeys(key, this.#channelPrefix)
      this.#keyCache.set(key, keys)
    }
    return keys
  }
}

const QUIT_TIMEOUT_MS = 2000
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000
const DEFAULT_WAIT_TIMEOUT_MS = 1000
const KEY_CACHE_SIZE = 1024

/** Redis takes whole milliseconds; never round a ttl down to 0 (which `PX` rejects). */
function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms))
}
