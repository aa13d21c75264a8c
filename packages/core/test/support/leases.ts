import diagnostics from 'node:diagnostics_channel'
import { channelNames } from '../../src/events.js'
import { Lease, type LeaseHome } from '../../src/lease.js'
import { RenewalBatch } from '../../src/renewal-batch.js'
import { StoreDeadline } from '../../src/store-deadline.js'
import type { LockStore } from '../../src/store.js'

/** One lease made straight from a store grant, as a manager's queue makes it, and what it reported. */
export interface Made {
  lease: Lease
  key: string
  owner: string
  /** The leases `onEnd` was called with, in order. */
  ended: Lease[]
}

let made = 0

/** What a test may set of a lease it makes (the rest as a manager's queue would). */
export interface LeaseInit {
  ttl: number
  autoExtend: boolean
  /** When it was granted (default: when the grant was asked for). */
  grantedAt: number
  /** When the grant was asked for, which its ttl counts from (default: just before the store call). */
  sentAt: number
  /** Shared with other leases (default: the lease's own). */
  deadline: StoreDeadline
  renewals: RenewalBatch
}

/**
 * Acquire `key` in `store` for a fresh owner and wrap the grant in a `Lease` (ttl 60 s, no
 * automatic renewal unless `init` says so). With `batch`, renewals go through a `RenewalBatch`
 * as a manager's do; otherwise the lease renews on its own timer.
 */
/** What every lock event says of `made`'s lock. */
export const base = ({ lease, key }: Made) => ({
  name: lease.name,
  key,
  mode: 'exclusive',
  clientId: 'lease-test',
  fencingToken: lease.fencingToken,
})

export async function grantLease(store: LockStore, init: Partial<LeaseInit> = {}, batch = false): Promise<Made> {
  const n = ++made
  const key = `lease-test:${n}`
  const owner = `owner-${n}`
  const ttl = init.ttl ?? 60_000
  const sentAt = init.sentAt ?? performance.now()
  const granted = await store.acquire({ key, owner, mode: 'exclusive', ttlMs: ttl, clientId: 'lease-test', waiting: false, pollMs: 50 })
  if (!granted.granted) throw new Error(`${key} was not granted`)
  const deadline = init.deadline ?? new StoreDeadline(5_000)
  const ended: Lease[] = []
  const home: LeaseHome = {
    name: `lease ${n}`,
    key,
    host: { store, deadline, clientId: 'lease-test', renewals: init.renewals ?? (batch ? new RenewalBatch(store, deadline) : undefined) },
    leaseEnded: (lease) => ended.push(lease),
  }
  const lease = new Lease(home, owner, 'exclusive', granted.fencingToken, ttl, init.autoExtend ?? false, sentAt, init.grantedAt)
  return { lease, key, owner, ended }
}

/** Another client takes `key` from whoever holds it (as a steal or an expiry plus a new grant would). */
export async function takeOver(store: LockStore, key: string): Promise<void> {
  await store.forceRelease(key)
  const granted = await store.acquire({
    key,
    owner: 'other-client',
    mode: 'exclusive',
    ttlMs: 60_000,
    clientId: 'other',
    waiting: false,
    pollMs: 50,
  })
  if (!granted.granted) throw new Error(`${key} was not granted to the other client`)
}

/** Collects the events published on some channels until `stop()`. */
export class Events {
  readonly seen: { channel: keyof typeof channelNames; event: Record<string, unknown> }[] = []
  readonly #listeners: [string, (event: unknown) => void][] = []

  constructor(...channels: (keyof typeof channelNames)[]) {
    for (const channel of channels) {
      const listener = (event: unknown) => this.seen.push({ channel, event: event as Record<string, unknown> })
      diagnostics.subscribe(channelNames[channel], listener)
      this.#listeners.push([channelNames[channel], listener])
    }
  }

  /** The events on `channel` about lock `name`. */
  on(channel: keyof typeof channelNames, name: string): Record<string, unknown>[] {
    return this.seen.filter((seen) => seen.channel === channel && seen.event.name === name).map((seen) => seen.event)
  }

  stop(): void {
    for (const [channel, listener] of this.#listeners.splice(0)) diagnostics.unsubscribe(channel, listener)
  }
}

/** Timers that keep the process alive right now (unref'd ones are not counted). */
export const refTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length

export const until = async (predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
