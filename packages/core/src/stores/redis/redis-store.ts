import { randomBytes } from 'node:crypto'
import type {
  AcquireRequest,
  AcquireResult,
  Granted,
  Handover,
  Holder,
  LockListing,
  LockStore,
  Renewal,
  StealRequest,
  Unsubscribe,
  Waiter,
} from '../../store.js'
import { invalid } from '../../validate.js'
import { ScriptRunner, type RedisClient } from './client.js'
import { lockKeys, type LockKeys } from './keys.js'
import { listLocks, type RedisScanClient } from './list.js'
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_WAIT_TIMEOUT_MS, checkRedisStoreOptions, type RedisStoreOptions } from './options.js'
import { ACQUIRE } from './scripts/acquire.js'
import { EXTEND, EXTEND_MANY } from './scripts/extend.js'
import { FORCE_RELEASE } from './scripts/force-release.js'
import { HOLDERS } from './scripts/holders.js'
import { LISTEN } from './scripts/listen.js'
import { RELEASE } from './scripts/release.js'
import { Replicated } from './replicated.js'
import { STEAL } from './scripts/steal.js'
import { WAITERS } from './scripts/waiters.js'
import { reviveWhenEnded } from './revive.js'
import { INTEREST_TTL_MS, WakeUps } from './wake-ups.js'

export type { RedisStoreOptions } from './options.js'

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
  readonly #handOver: boolean
  readonly #closeClient: boolean
  /** Stops reopening an owned client that ended (see `revive.ts`); a no-op for a client the caller owns. */
  readonly #stopReviving: () => void
  readonly #waitReplicas: number
  readonly #replicated: Replicated
  readonly #keyCache = new Map<string, LockKeys>()
  /** Per key, the exclusive request this store's last refused waiting attempt parked (see `RELEASE`'s handover). */
  readonly #parked = new Map<string, Parked>()

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    checkRedisStoreOptions(options)
    if (typeof client !== 'object' || client === null || typeof (client as { evalsha?: unknown }).evalsha !== 'function') {
      throw invalid('client', 'an ioredis Redis or Cluster client (or one with the same shape)', client)
    }
    this.#waitReplicas = options.waitReplicas ?? 0
    if (this.#waitReplicas > 0 && typeof client.pipeline !== 'function') {
      throw invalid('client', 'a client with pipeline() (ioredis) for options.waitReplicas', client)
    }
    this.#client = client
    this.#scripts = new ScriptRunner(client, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, options.lastError ?? (() => undefined))
    this.#replicated = new Replicated(this.#scripts, this.#waitReplicas, options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS)
    // Marks this store as listening to a lock; distinct from every manager's clientId (hex only).
    const listenerId = `listener:${randomBytes(8).toString('hex')}`
    this.#wakeUps = new WakeUps(client, options.subscriberIdleMs ?? 2000, (alive, on) =>
      this.#scripts.call(LISTEN, { alive }, { member: listenerId, ms: on ? INTEREST_TTL_MS : 0 }),
    )
    this.#channelPrefix = client.options?.keyPrefix ?? ''
    this.#fenceTtlFactor = options.fenceTtlFactor ?? 10
    this.#livenessPolls = options.waiterLivenessPolls ?? 2
    this.#graceMs = options.handoffGraceMs ?? 500
    this.#handOver = options.handOver ?? false
    this.#closeClient = options.closeClient ?? false
    this.#stopReviving = this.#closeClient ? reviveWhenEnded(client) : () => undefined
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
    const liveness = wholeMs(this.#livenessPolls * request.pollMs + 100)
    const sentAt = performance.now()
    const result = await this.#replicated.run(
      'acquire',
      request.key,
      ACQUIRE,
      keys,
      {
        owner: request.owner,
        mode: request.mode === 'shared' ? 's' : 'x',
        ttl,
        client: request.clientId,
        waiting: request.waiting ? '1' : '0',
        liveness,
        fenceTtl: wholeMs(this.#fenceTtlFactor * ttl),
        grace: wholeMs(this.#graceMs),
        once: request.once === true ? '1' : '0',
      },
      (reply) => reply.granted,
      () => this.release(request.key, request.owner),
    )
    if (!result.granted && request.waiting && request.mode === 'exclusive') {
      // Parked by the script: a release may hand the lock to this attempt's owner. The hold it
      // gets lasts at least the smaller of liveness and grace from when the attempt ran (see
      // RELEASE), so from when it was sent.
      if (this.#parked.size >= KEY_CACHE_SIZE && !this.#parked.has(request.key)) this.#parked.clear()
      this.#parked.set(request.key, { owner: request.owner, clientId: request.clientId, until: sentAt + Math.min(liveness, this.#graceMs) })
    } else {
      this.#parked.delete(request.key)
    }
    return result
  }

  /** Owner-checked delete (one `EVALSHA`); publishes a wake-up when the lock is free and awaited. */
  async release(key: string, owner: string): Promise<boolean> {
    const keys = this.#keys(key)
    return this.#scripts.call(RELEASE, keys, {
      owner,
      channel: keys.channel,
      grace: wholeMs(this.#graceMs),
      handover: this.#handOver ? '1' : '0',
    })
  }

  /** Owner-checked `PEXPIRE` (one `EVALSHA`). */
  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const client = this.#confirming(key, owner)
    return this.#replicated.run('extend', key, EXTEND, this.#keys(key), { owner, ttl: wholeMs(ttlMs), client }, (extended) => extended)
  }

  /** The first renewal of a handed-over lock also clears its mark (see EXTEND): the manager's id then, else ''. */
  #confirming(key: string, owner: string): string {
    const handed = this.#parked.get(key)
    if (handed?.owner !== owner) return ''
    this.#parked.delete(key)
    return handed.clientId
  }

  /**
   * Many renewals in one `EVALSHA` per 1000 locks, all sent at once: one round trip whatever their
   * number. On a Cluster (whose keys live in different slots) and with `waitReplicas`, one
   * `extend` per lock, all sent at once.
   */
  async extendMany(renewals: readonly Renewal[]): Promise<boolean[]> {
    if (this.#waitReplicas > 0 || this.#client.isCluster !== false) {
      return Promise.all(renewals.map((renewal) => this.extend(renewal.key, renewal.owner, renewal.ttlMs)))
    }
    const items = renewals.map((renewal) => ({
      keys: this.#keys(renewal.key),
      owner: renewal.owner,
      ttl: wholeMs(renewal.ttlMs),
      client: this.#confirming(renewal.key, renewal.owner),
    }))
    const batches: Promise<boolean[]>[] = []
    for (let start = 0; start < items.length; start += EXTEND_BATCH) {
      const [keys, args] = EXTEND_MANY.encode(items.slice(start, start + EXTEND_BATCH))
      batches.push(this.#scripts.run(EXTEND_MANY, keys, args).then((reply) => EXTEND_MANY.decode(reply)))
    }
    return (await Promise.all(batches)).flat()
  }

  /** Drops every holder and takes the lock exclusively (one `EVALSHA`), with a new fencing token. */
  async steal(request: StealRequest): Promise<Granted> {
    const keys = this.#keys(request.key)
    const ttl = wholeMs(request.ttlMs)
    const fencingToken = await this.#replicated.run(
      'steal',
      request.key,
      STEAL,
      keys,
      { owner: request.owner, ttl, client: request.clientId, fenceTtl: wholeMs(this.#fenceTtlFactor * ttl), channel: keys.channel },
      () => true,
      () => this.release(request.key, request.owner),
    )
    return { fencingToken }
  }

  /** Drops every holder (one `EVALSHA`); resolves whether a live one existed. */
  async forceRelease(key: string): Promise<boolean> {
    const keys = this.#keys(key)
    return this.#scripts.call(FORCE_RELEASE, keys, { channel: keys.channel })
  }

  /** The live holders with their remaining ttl by Redis's clock (one `EVALSHA`). */
  async holders(key: string): Promise<Holder[]> {
    return this.#scripts.call(HOLDERS, this.#keys(key), {})
  }

  /** The managers waiting for `key` (one `EVALSHA`): refused, not granted since, still asking. */
  async waiters(key: string): Promise<Waiter[]> {
    return this.#scripts.call(WAITERS, this.#keys(key), {})
  }

  /**
   * The held locks under `prefix` whose name matches `pattern` (a glob: `*`, `?`, `\`), with their
   * holders and last fencing token. `SCAN` on the server, or on every primary of a Cluster, 1000
   * keys per call, then one `holders` script and one `GET` per lock found; a pattern without
   * wildcards reads its one lock without scanning. Needs ioredis's `scanBuffer` and `get` (and
   * `nodes()` on a Cluster).
   */
  list(prefix: string, pattern?: string): AsyncIterable<LockListing> {
    const client = this.#client as unknown as Partial<RedisScanClient>
    if (typeof client.scanBuffer !== 'function' || typeof client.get !== 'function') {
      throw new TypeError('RedisStore.list needs a client with scanBuffer() and get() (ioredis)')
    }
    return listLocks(
      { client: client as RedisScanClient, keyPrefix: this.#channelPrefix, holders: (key) => this.holders(key) },
      prefix,
      pattern,
    )
  }

  /**
   * Wake-ups on release, steal and force release of `key`, over one subscriber connection per
   * store. Starting to listen costs one extra call (it marks the lock as listened to, so its
   * releases publish); releases of locks nobody waits for or listens to publish nothing.
   */
  onRelease(key: string, wake: (handover?: Handover) => void): Unsubscribe {
    return this.#wakeUps.listen(this.#keys(key), (message) => {
      if (message === undefined || message.length === 0) return wake()
      wake(this.#handover(key, message))
    })
  }

  /** Close the subscriber connection, and the client when `closeClient` is set. */
  async close(): Promise<void> {
    this.#wakeUps.close()
    if (!this.#closeClient) return
    this.#stopReviving()
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

  /** A handover published by RELEASE (`token:owner`), with how long it holds when it is this store's. */
  #handover(key: string, message: Buffer): Handover {
    const text = message.toString('utf8')
    const split = text.indexOf(':')
    const handover: Handover = { owner: text.slice(split + 1), fencingToken: Number(text.slice(0, split)) }
    const parked = this.#parked.get(key)
    if (parked?.owner === handover.owner) handover.heldUntil = parked.until
    return handover
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

interface Parked {
  owner: string
  clientId: string
  /** `performance.now()` until which a handover to `owner` surely holds. */
  until: number
}

const QUIT_TIMEOUT_MS = 2000
/** Locks per EXTEND_MANY call: Redis runs a script alone, so a long one would stall every other client. */
const EXTEND_BATCH = 1000
const KEY_CACHE_SIZE = 1024

/** Redis takes whole milliseconds; never round a ttl down to 0 (which `PX` rejects). */
function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms))
}
