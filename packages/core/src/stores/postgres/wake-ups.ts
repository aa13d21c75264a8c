import type { Unsubscribe } from '../../store.js'
import type { PgListenClient, PgNotification } from './client.js'

/**
 * Marks a key as waited for, for `INTEREST_TTL_MS` (the `listen` statement): releases notify only
 * keys somebody waits for, so an uncontended release sends no NOTIFY (each NOTIFY takes a
 * database-wide lock at commit).
 */
export type Interest = (key: string) => Promise<unknown>

/** How long a waited-for mark lasts without renewal: the NOTIFYs a crashed process can leave behind. */
export const INTEREST_TTL_MS = 30_000
const INTEREST_RENEW_MS = INTEREST_TTL_MS / 3

interface Waiting {
  readonly listeners: Set<{ wake: () => void }>
  active: boolean
}

/**
 * Release notifications over PostgreSQL `LISTEN`/`NOTIFY`, on one dedicated connection per store
 * (not one of the pool's: a pooled connection goes back to the pool between statements, and with
 * it the subscription). Releases `pg_notify(channel, key)` inside the releasing statement, so the
 * notification is sent exactly when the release commits.
 *
 * The connection is opened when the first waiter listens and closed `idleMs` after the last one
 * leaves. If it cannot be opened or breaks, waiters are woken (so they try at once) and fall back to
 * polling every `sleep`; the next listener opens a new one. A transaction pooler (PgBouncer in
 * transaction mode) does not deliver notifications to a session: set `listen: false` there, or
 * give `listen` a direct connection's settings.
 */
export class PgWakeUps {
  readonly #connect: () => PgListenClient
  readonly #channel: string
  readonly #idleMs: number
  readonly #interest: Interest
  readonly #keys = new Map<string, Waiting>()
  #client: PgListenClient | undefined
  #ready: Promise<void> | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #renewTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(connect: () => PgListenClient, channel: string, idleMs: number, interest: Interest) {
    this.#connect = connect
    this.#channel = channel
    this.#idleMs = idleMs
    this.#interest = interest
  }

  /** Whether the LISTEN connection is open (for tests and diagnostics). */
  get connected(): boolean {
    return this.#client !== undefined
  }

  listen(key: string, wake: () => void): Unsubscribe {
    if (this.#closed) return () => undefined
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    const listener = { wake }
    let waiting = this.#keys.get(key)
    if (waiting) {
      waiting.listeners.add(listener)
      // Already listening, but a release may have come before this listener joined.
      if (waiting.active) queueMicrotask(() => waiting?.listeners.has(listener) && wake())
    } else {
      waiting = { listeners: new Set([listener]), active: false }
      this.#keys.set(key, waiting)
      this.#activate(key, waiting)
      this.#renewInterest()
    }
    return () => this.#remove(key, waiting, listener)
  }

  close(): void {
    this.#closed = true
    this.#keys.clear()
    this.#disconnect()
  }

  #activate(key: string, waiting: Waiting): void {
    // Wake once both hold: LISTEN is active (later notifications arrive) and the key is marked (so
    // releases notify). The wake covers a release in between. A failure wakes too: the waiter
    // polls instead.
    Promise.all([this.#connection(), this.#interest(key)]).then(
      () => {
        if (this.#keys.get(key) !== waiting) return
        waiting.active = true
        wakeAll(waiting)
      },
      () => {
        if (this.#keys.get(key) === waiting) wakeAll(waiting)
      },
    )
  }

  #remove(key: string, waiting: Waiting, listener: { wake: () => void }): void {
    if (!waiting.listeners.delete(listener) || waiting.listeners.size > 0) return
    if (this.#keys.get(key) !== waiting) return
    this.#keys.delete(key)
    if (this.#keys.size === 0 && !this.#closed) {
      this.#idleTimer = setTimeout(() => this.#disconnect(), this.#idleMs)
      this.#idleTimer.unref()
    }
  }

  #connection(): Promise<void> {
    if (this.#ready) return this.#ready
    const client = this.#connect()
    this.#client = client
    const lost = () => {
      if (this.#client !== client) return
      this.#client = undefined
      this.#ready = undefined
      client.end().catch(() => undefined)
      // Notifications sent while the connection was down are lost: everyone tries again now and
      // listens anew (the next listener reconnects).
      for (const [key, waiting] of [...this.#keys]) {
        this.#keys.delete(key)
        wakeAll(waiting)
      }
    }
    client.on('notification', (message: PgNotification) => {
      if (message.channel !== this.#channel || message.payload === undefined) return
      const waiting = this.#keys.get(message.payload)
      if (waiting) wakeAll(waiting)
    })
    client.on('error', lost)
    client.on('end', lost)
    const ready = client.connect().then(() => client.query(`LISTEN "${this.#channel}"`))
    this.#ready = ready.then(
      () => undefined,
      (error: unknown) => {
        lost()
        throw error
      },
    )
    return this.#ready
  }

  /** Keep the waited-for marks alive while there are waiters: one timer for all keys. */
  #renewInterest(): void {
    if (this.#renewTimer) return
    this.#renewTimer = setInterval(() => {
      if (this.#keys.size === 0) {
        clearInterval(this.#renewTimer)
        this.#renewTimer = undefined
        return
      }
      for (const key of this.#keys.keys()) this.#interest(key).catch(() => undefined)
    }, INTEREST_RENEW_MS)
    this.#renewTimer.unref()
  }

  #disconnect(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    clearInterval(this.#renewTimer)
    this.#renewTimer = undefined
    const client = this.#client
    this.#client = undefined
    this.#ready = undefined
    client?.end().catch(() => undefined)
  }
}

function wakeAll(waiting: Waiting): void {
  for (const listener of [...waiting.listeners]) {
    if (waiting.listeners.has(listener)) listener.wake()
  }
}
