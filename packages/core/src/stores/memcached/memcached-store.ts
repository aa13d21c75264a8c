import { describeName } from '../../errors.js'
import type { AcquireRequest, AcquireResult, Granted, Holder, LockMode, LockStore, StealRequest } from '../../store.js'
import { invalid } from '../../validate.js'
import type { MemcachedClient } from './client.js'
import { exptime, ttlSeconds } from './expiry.js'
import { lockKeys, type LockKeys } from './keys.js'
import { BinaryProtocol, type CasOutcome, type Item } from './protocol.js'
import {
  decodeRecord,
  encodeRecord,
  exclusiveRecord,
  lists,
  recordSeconds,
  sharedRecord,
  type LockRecord,
  type SharedRecord,
} from './record.js'

export interface MemcachedStoreOptions {
  /**
   * Close the client in `close()`. Leave it off for a client the app owns and closes itself;
   * `memcachedStoreFromUrl` sets it for the client it opens.
   * @default false
   */
  closeClient?: boolean
  /**
   * How often one operation re-reads and tries again when a concurrent change to the same lock
   * beat its compare-and-swap (many shared holders joining and leaving at once). Past it,
   * `acquire` answers "not granted" and the other operations reject.
   * @default 32
   */
  maxAttempts?: number
}

/** Never expire the fencing counter: only eviction drops it, and a dropped one is reseeded. */
const COUNTER_EXPTIME = 0
/** Tries at taking a token while other clients race to create the same missing counter. */
const SEED_ATTEMPTS = 5
const EMPTY = Buffer.alloc(0)
const CONFLICT = Symbol('conflict')
type Step<T> = () => Promise<T | typeof CONFLICT>

interface Current {
  item: Item
  record: LockRecord
}

/**
 * Locks in memcached, through the app's memjs `Client`. Acquire is an atomic `add`; release,
 * extend and shared changes are compare-and-swap writes of one lock record (never get-then-delete:
 * between the two another client may have taken the lock).
 *
 * Expiry is memcached's own: a lock lives as long as its items, whose ttls memcached counts on its
 * clock, so app servers with skewed clocks agree. Shared holders each get an item of their own
 * (the record lists them), because memcached offers no clock to compare per-holder expiry
 * times with. memcached ttls are whole seconds, so a lock may outlive its ttl by up to ~3 s, and
 * `holders()` cannot say how long a hold has left. memcached has no notifications: waiters poll.
 *
 * Every item of one lock is routed to the server of its lock key, so on a multi-server client a
 * lock never spans servers, and the commands of one operation are pipelined in one round trip
 * and executed in order. Keep memjs's `failover` off: it moves keys to another server when one
 * fails, where the lock is not.
 *
 * Eviction under memory pressure and restarts drop locks: size memcached so that lock items are
 * not evicted, or use Redis.
 *
 * Every answer errs on the safe side when memjs resends a request whose response was lost (a
 * timeout): a grant is confirmed by reading the record back, and a release or extend that already
 * happened reports `false` rather than a change that did not.
 */
export class MemcachedStore implements LockStore {
  readonly #client: MemcachedClient
  readonly #wire: BinaryProtocol
  readonly #closeClient: boolean
  readonly #maxAttempts: number

  constructor(client: MemcachedClient, options: MemcachedStoreOptions = {}) {
    if (typeof client?.perform !== 'function' || typeof client.incrSeq !== 'function') throw invalid('client', 'a memjs Client', client)
    const maxAttempts = options.maxAttempts ?? 32
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw invalid('options.maxAttempts', 'an integer >= 1', maxAttempts)
    this.#client = client
    this.#wire = new BinaryProtocol(client)
    this.#closeClient = options.closeClient ?? false
    this.#maxAttempts = maxAttempts
  }

  /**
   * Exclusive: one round trip (add, take a token, read back) when the lock is free or held
   * exclusively. Shared: one round trip when free; joining existing shared holders takes three
   * (read, check which listed holders are alive, compare-and-swap the record).
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const keys = lockKeys(request.key)
    const seconds = ttlSeconds(request.ttlMs)
    const step =
      request.mode === 'exclusive'
        ? () => this.#acquireExclusive(keys, request.owner, seconds)
        : () => this.#acquireShared(keys, request.owner, seconds)
    return this.#retrying(step, () => ({ granted: false }))
  }

  /**
   * Two round trips (three for a shared hold, whose own item is checked too): read the record with its CAS token, then delete or rewrite it with that token.
   * The token must come from a read whose value shows the owner: one remembered from the grant
   * could match another client's item after memcached restarts, since its CAS counter starts over.
   */
  async release(key: string, owner: string): Promise<boolean> {
    const keys = lockKeys(key)
    return this.#retrying(
      async () => {
        const current = await this.#read(keys)
        if (!current) return false
        const { record, item } = current
        let outcome: CasOutcome
        if (record.mode === 'exclusive') {
          if (record.owner !== owner) return false
          outcome = await this.#wire.delete(keys.lock, keys.lock, item.cas)
        } else {
          // Only a shared hold has an item of its own: read it only then (one more round trip for
          // shared releases, one request fewer for exclusive ones, the common case).
          if (!record.holders.has(owner) || !(await this.#wire.get(keys.lock, keys.holder(owner)))) return false
          const rest = new Map(record.holders)
          rest.delete(owner)
          outcome =
            rest.size === 0
              ? await this.#wire.delete(keys.lock, keys.lock, item.cas)
              : await this.#rewrite(keys, sharedRecord(rest), item.cas)
          // Unlisted, this holder's item means nothing; remove it rather than wait for its ttl.
          if (outcome === 'done') this.#discard(keys, keys.holder(owner))
        }
        return outcome === 'exists' ? CONFLICT : outcome === 'done'
      },
      this.#exhausted('release', key),
    )
  }

  /**
   * Two round trips: read the record (and touch a shared holder's item), then rewrite the record
   * with the new ttl and the CAS token read. memcached's touch takes no CAS token, so it cannot be
   * the owner-checked write.
   */
  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const keys = lockKeys(key)
    const seconds = ttlSeconds(ttlMs)
    return this.#retrying(
      async () => {
        // Touching before the rewrite keeps the record outliving the holder's item. Touching the item
        // of a holder that turns out not to hold only prolongs an item nobody lists.
        const [current, holderAlive] = await Promise.all([
          this.#read(keys),
          this.#wire.touch(keys.lock, keys.holder(owner), exptime(seconds)),
        ])
        if (!current) return false
        const { record, item } = current
        let outcome: CasOutcome
        if (record.mode === 'exclusive') {
          if (record.owner !== owner) return false
          outcome = await this.#wire.replace(keys.lock, keys.lock, item.value, exptime(seconds), item.cas)
        } else {
          if (!record.holders.has(owner) || !holderAlive) return false
          outcome = await this.#rewrite(keys, sharedRecord(new Map(record.holders).set(owner, seconds)), item.cas)
        }
        return outcome === 'exists' ? CONFLICT : outcome === 'done'
      },
      this.#exhausted('extend', key),
    )
  }

  /** One round trip: overwrite the record, take a token, read back. Items of displaced shared holders expire unlisted. */
  async steal(request: StealRequest): Promise<Granted> {
    const keys = lockKeys(request.key)
    const seconds = ttlSeconds(request.ttlMs)
    const record = encodeRecord(exclusiveRecord(request.owner))
    return this.#retrying(
      async () => {
        const written = this.#wire.set(keys.lock, keys.lock, record, exptime(seconds))
        const [, { token }] = await Promise.all([written, this.#fence(keys, request.owner, 'exclusive')])
        return token === undefined ? CONFLICT : { fencingToken: token }
      },
      this.#exhausted('steal', request.key),
    )
  }

  /** Two round trips: read the record, then delete it (with its CAS token) and every listed holder's item. */
  async forceRelease(key: string): Promise<boolean> {
    const keys = lockKeys(key)
    let released = false
    return this.#retrying(
      async () => {
        const current = await this.#read(keys)
        if (!current) return released
        const { record, item } = current
        const owners = record.mode === 'shared' ? [...record.holders.keys()] : []
        const [outcome, ...holderOutcomes] = await Promise.all([
          this.#wire.delete(keys.lock, keys.lock, item.cas),
          ...owners.map((owner) => this.#wire.delete(keys.lock, keys.holder(owner))),
        ])
        // An exclusive record lives exactly as long as its hold; a shared one was held if a listed holder was alive.
        if (record.mode === 'exclusive' ? outcome === 'done' : holderOutcomes.includes('done')) released = true
        return outcome === 'exists' ? CONFLICT : released
      },
      this.#exhausted('force-release', key),
    )
  }

  /** One round trip for an exclusive lock, two for shared (which listed holders are alive). Never `expiresInMs`: memcached does not tell. */
  async holders(key: string): Promise<Holder[]> {
    const keys = lockKeys(key)
    const current = await this.#read(keys)
    if (!current) return []
    const { record } = current
    if (record.mode === 'exclusive') return [{ owner: record.owner, mode: 'exclusive' }]
    const alive = await this.#alive(keys, record)
    return [...alive.keys()].map((owner) => ({ owner, mode: 'shared' }))
  }

  close(): Promise<void> {
    if (this.#closeClient) this.#client.close()
    return Promise.resolve()
  }

  async #acquireExclusive(keys: LockKeys, owner: string, seconds: number): Promise<AcquireResult | typeof CONFLICT> {
    const record = encodeRecord(exclusiveRecord(owner))
    const added = this.#wire.add(keys.lock, keys.lock, record, exptime(seconds))
    const [, first] = await Promise.all([added, this.#fence(keys, owner, 'exclusive')])
    if (first.token !== undefined) return { granted: true, fencingToken: first.token }
    const current = first.current
    // Freed between the add and the read: try again.
    if (!current) return CONFLICT
    if (current.record.mode === 'exclusive') return { granted: false }
    // A shared record can outlive its holders (they crashed or lost their lock); take it over only
    // when none is alive, and only if the record has not changed since (a joiner changes it).
    if ((await this.#alive(keys, current.record)).size > 0) return { granted: false }
    const replaced = this.#wire.replace(keys.lock, keys.lock, record, exptime(seconds), current.item.cas)
    const [, second] = await Promise.all([replaced, this.#fence(keys, owner, 'exclusive')])
    return second.token === undefined ? CONFLICT : { granted: true, fencingToken: second.token }
  }

  async #acquireShared(keys: LockKeys, owner: string, seconds: number): Promise<AcquireResult | typeof CONFLICT> {
    // The holder's item is written before the record lists the holder: an exclusive acquirer that
    // sees it listed must find its item alive, or it could take over from a holder being granted.
    const itemWritten = this.#wire.set(keys.lock, keys.holder(owner), EMPTY, exptime(seconds))
    const added = this.#wire.add(keys.lock, keys.lock, encodeRecord(sharedRecord(new Map([[owner, seconds]]))), exptime(seconds))
    const [, , first] = await Promise.all([itemWritten, added, this.#fence(keys, owner, 'shared')])
    if (first.token !== undefined) return { granted: true, fencingToken: first.token }
    const current = first.current
    if (!current) return CONFLICT
    if (current.record.mode === 'exclusive') {
      this.#discard(keys, keys.holder(owner))
      return { granted: false }
    }
    // Join, dropping listed holders whose items expired, so the list stays as long as the live holders.
    const holders = await this.#alive(keys, current.record)
    holders.set(owner, seconds)
    const rewritten = this.#rewrite(keys, sharedRecord(holders), current.item.cas)
    const [, second] = await Promise.all([rewritten, this.#fence(keys, owner, 'shared')])
    return second.token === undefined ? CONFLICT : { granted: true, fencingToken: second.token }
  }

  /**
   * Take a fencing token and read the record back, pipelined behind the write that may have granted
   * the lock. The server runs write, increment, read in that order, so a read that still shows
   * `owner` proves the token was taken while `owner` held the lock without a break; holds of one
   * lock do not overlap (shared ones aside), so tokens rise in the order of the holds. Taking the
   * token in a separate step would not: a grant whose increment is delayed past its expiry could
   * get a larger token than the holder after it. Refusals burn a token; only growth matters.
   *
   * Resolves the token only when the read shows `owner` holding in `mode`; `current` either way.
   */
  async #fence(keys: LockKeys, owner: string, mode: LockMode): Promise<{ token?: number; current: Current | undefined }> {
    for (let attempt = 1; ; attempt++) {
      // A counter lost to eviction restarts from the clock (ms × 1000), above every token it gave
      // unless it gave more than a thousand per millisecond or the clocks of clients disagree.
      const seed = BigInt(Date.now()) * 1000n
      const [count, current] = await Promise.all([this.#wire.increment(keys.lock, keys.fence, 1n, seed, COUNTER_EXPTIME), this.#read(keys)])
      if (!lists(current?.record, owner, mode)) return { current }
      if (count !== undefined) return { token: toToken(count, keys), current }
      // Another client created the counter at the same moment: it exists now, count again (unless
      // memcached evicts it as fast as it is created, which only an overloaded server does).
      if (attempt === SEED_ATTEMPTS) throw new Error(`memcached fencing counter ${JSON.stringify(keys.fence)} could not be created`)
    }
  }

  /** The lock record with its CAS token, or `undefined` when the lock is free. */
  async #read(keys: LockKeys): Promise<Current | undefined> {
    const item = await this.#wire.get(keys.lock, keys.lock)
    return item && { item, record: decodeRecord(item.value, keys.lock) }
  }

  /** Write a shared record if it still carries `cas`, with the ttl of its longest holder. */
  #rewrite(keys: LockKeys, record: SharedRecord, cas: bigint): Promise<CasOutcome> {
    return this.#wire.replace(keys.lock, keys.lock, encodeRecord(record), exptime(recordSeconds(record)), cas)
  }

  /** The listed shared holders whose items memcached still keeps, with their ttls. One pipelined round trip. */
  async #alive(keys: LockKeys, record: SharedRecord): Promise<Map<string, number>> {
    const entries = [...record.holders]
    const items = await Promise.all(entries.map(([owner]) => this.#wire.get(keys.lock, keys.holder(owner))))
    return new Map(entries.filter((_, index) => items[index] !== undefined))
  }

  /** Best-effort removal of an item nobody lists; it expires on its own if this fails. */
  #discard(keys: LockKeys, key: string): void {
    this.#wire.delete(keys.lock, key).catch(() => undefined)
  }

  async #retrying<T>(step: Step<T>, exhausted: () => T): Promise<T> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const result = await step()
      if (result !== CONFLICT) return result
      // Jittered, growing pauses spread out clients that keep colliding on one record.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)))
    }
    return exhausted()
  }

  #exhausted(operation: string, key: string): () => never {
    return () => {
      throw new Error(
        `memcached: could not ${operation} lock ${describeName(key)}: it changed concurrently ${this.#maxAttempts} times in a row`,
      )
    }
  }
}

function toToken(count: bigint, keys: LockKeys): number {
  if (count > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`memcached fencing counter ${JSON.stringify(keys.fence)} passed 2^53 - 1`)
  return Number(count)
}
