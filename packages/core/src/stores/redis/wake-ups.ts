import type { Unsubscribe } from '../../store.js'
import type { RedisClient, RedisSubscriber } from './client.js'
import { channelId, type RedisKey } from './keys.js'
import { reviveWhenEnded } from './revive.js'

/** What a lock needs to be listened to: its channel, and the key where listeners say they listen. */
export interface WakeTarget {
  channel: RedisKey
  alive: RedisKey
}

/**
 * Marks (`on`) or unmarks a lock as listened to by this store, for `INTEREST_TTL_MS` (see the
 * `LISTEN` script): releases publish only while someone waits or listens.
 */
export type Interest = (alive: RedisKey, on: boolean) => Promise<unknown>

/** Called with the published message, or with nothing for a wake-up of the store's own (subscribed, reconnected). */
export type WakeListener = (message?: Buffer) => void

/** How long a listening mark lasts without renewal: the publishes a crashed process can leave behind. */
export const INTEREST_TTL_MS = 30_000
const INTEREST_RENEW_MS = INTEREST_TTL_MS / 3

interface Channel {
  readonly target: WakeTarget
  /** One entry per `listen()` call, so the same function may listen twice. */
  readonly listeners: Set<{ wake: WakeListener }>
  state: 'subscribing' | 'active' | 'failed'
}

/**
 * Release notifications over Redis pub/sub, one channel per lock: a release reaches only the
 * connections waiting for that lock. (With one shared channel every release would reach every
 * waiting process, which discards nearly all of them: with 4 processes, 4× the messages.)
 *
 * One subscriber connection per store, made with `client.duplicate()` when the first listener
 * arrives and closed `idleMs` after the last one leaves, so a lock that is contended now and then
 * does not reconnect each time. Classic `SUBSCRIBE`/`PUBLISH` work unchanged on a Cluster, where a
 * publish reaches every node; sharded pub/sub would need the Cluster client's
 * `shardedSubscribers` option, which ioredis 5 lacks.
 */
export class WakeUps {
  readonly #client: RedisClient
  readonly #idleMs: number
  readonly #interest: Interest
  readonly #channels = new Map<string, Channel>()
  #subscriber: RedisSubscriber | undefined
  #stopReviving: (() => void) | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #renewTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(client: RedisClient, idleMs: number, interest: Interest) {
    this.#client = client
    this.#idleMs = idleMs
    this.#interest = interest
  }

  /** Whether the subscriber connection is open (for tests and diagnostics). */
  get connected(): boolean {
    return this.#subscriber !== undefined
  }

  /**
   * Call `wake` on each release published for `target`, and once when the subscription is active
   * (a release between the caller's refused attempt and then would otherwise be missed).
   */
  listen(target: WakeTarget, wake: WakeListener): Unsubscribe {
    if (this.#closed) return () => undefined
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    const id = channelId(target.channel)
    const listener = { wake }
    let channel = this.#channels.get(id)
    if (!channel) {
      channel = { target, listeners: new Set([listener]), state: 'subscribing' }
      this.#channels.set(id, channel)
      this.#subscribe(id, channel)
      this.#renewInterest()
    } else {
      channel.listeners.add(listener)
      if (channel.state === 'failed') this.#subscribe(id, channel)
      else if (channel.state === 'active') {
        // Already subscribed, but a release may have come before this listener joined.
        queueMicrotask(() => {
          if (channel?.listeners.has(listener)) wake()
        })
      }
    }
    return () => this.#remove(id, channel, listener)
  }

  /** Stop listening everywhere and close the subscriber connection; later `listen` calls do nothing (waiters poll). */
  close(): void {
    this.#closed = true
    for (const channel of this.#channels.values()) this.#interest(channel.target.alive, false).catch(() => undefined)
    this.#channels.clear()
    this.#disconnect()
  }

  #remove(id: string, channel: Channel, listener: { wake: WakeListener }): void {
    if (!channel.listeners.delete(listener) || channel.listeners.size > 0) return
    if (this.#channels.get(id) !== channel) return
    this.#channels.delete(id)
    this.#interest(channel.target.alive, false).catch(() => undefined)
    // Also after a failed subscription: the SUBSCRIBE may have worked where the listening mark did not.
    this.#subscriber?.unsubscribe(channel.target.channel).catch(() => undefined)
    if (this.#channels.size === 0 && !this.#closed) {
      this.#idleTimer = setTimeout(() => this.#disconnect(), this.#idleMs)
      this.#idleTimer.unref()
    }
  }

  #subscribe(id: string, channel: Channel): void {
    channel.state = 'subscribing'
    // Wake only once both hold: subscribed (so later publishes arrive) and marked as listening
    // (so releases publish). The wake covers any release before that.
    Promise.all([this.#connection().subscribe(channel.target.channel), this.#interest(channel.target.alive, true)]).then(
      () => {
        if (this.#channels.get(id) !== channel || channel.state !== 'subscribing') return
        channel.state = 'active'
        wakeAll(channel)
      },
      () => {
        if (this.#channels.get(id) !== channel) return
        // Waiters poll meanwhile; the next listener for this lock tries to subscribe again.
        channel.state = 'failed'
        wakeAll(channel)
      },
    )
  }

  /** Keep the listening marks alive while there are listeners: one timer for all channels. */
  #renewInterest(): void {
    if (this.#renewTimer) return
    this.#renewTimer = setInterval(() => {
      if (this.#channels.size === 0) {
        clearInterval(this.#renewTimer)
        this.#renewTimer = undefined
        return
      }
      for (const channel of this.#channels.values()) this.#interest(channel.target.alive, true).catch(() => undefined)
    }, INTEREST_RENEW_MS)
    this.#renewTimer.unref()
  }

  #connection(): RedisSubscriber {
    if (this.#subscriber) return this.#subscriber
    const subscriber = this.#client.duplicate()
    let readyBefore = false
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const entry = this.#channels.get(channelId(channel))
      if (entry) wakeAll(entry, message)
    })
    // Errors reach the waiters as failed store calls and failed subscriptions; without a listener
    // the client would print each one.
    subscriber.on('error', () => undefined)
    subscriber.on('ready', () => {
      if (readyBefore) this.#resubscribed()
      readyBefore = true
    })
    // The store owns this connection: reopen it if ioredis ends it on its own (see `revive.ts`).
    this.#stopReviving = reviveWhenEnded(subscriber)
    this.#subscriber = subscriber
    return subscriber
  }

  /** After a reconnect the client subscribes again; releases published while it was away were missed. */
  #resubscribed(): void {
    const active = [...this.#channels.values()].filter((channel) => channel.state === 'active')
    if (active.length === 0 || !this.#subscriber) return
    const wakeActive = () => active.forEach((channel) => wakeAll(channel))
    this.#subscriber.subscribe(...active.map((channel) => channel.target.channel)).then(wakeActive, wakeActive)
  }

  #disconnect(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    clearInterval(this.#renewTimer)
    this.#renewTimer = undefined
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    this.#stopReviving?.()
    this.#stopReviving = undefined
    subscriber?.disconnect()
  }
}

function wakeAll(channel: Channel, message?: Buffer): void {
  for (const listener of [...channel.listeners]) {
    if (channel.listeners.has(listener)) listener.wake(message)
  }
}
