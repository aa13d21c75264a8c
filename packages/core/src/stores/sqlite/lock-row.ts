import type { Holder, LockMode, Waiter as ListedWaiter } from '../../store.js'
import { liveHolders } from '../sql/holders.js'

/** One waiting manager: its id, when it was first refused, until when it counts as waiting (ms). */
export type Waiter = [clientId: string, since: number, until: number]

/** A lock's row, decoded, as `SqliteStore` reads and writes it inside one write transaction. */
export interface LockRow {
  owner: string | null
  expiresAt: number
  shared: Record<string, number>
  queue: Waiter[]
  fence: number
  /** The managers waiting for the lock (`LockStore.waiters`): `[x | s, until ms]` by clientId. */
  waiters: Record<string, [mode: 'x' | 's', until: number]>
}

export interface RawRow {
  owner: string | null
  expires_at: number
  shared: string
  queue: string
  fence: number
  waiters: string
}

export function decodeRow(raw: RawRow | undefined): LockRow | undefined {
  if (!raw) return undefined
  return {
    owner: raw.owner,
    expiresAt: Number(raw.expires_at),
    shared: JSON.parse(raw.shared) as Record<string, number>,
    queue: JSON.parse(raw.queue) as Waiter[],
    fence: Number(raw.fence),
    waiters: JSON.parse(raw.waiters) as LockRow['waiters'],
  }
}

export function emptyRow(): LockRow {
  return { owner: null, expiresAt: 0, shared: {}, queue: [], fence: 0, waiters: {} }
}

/** Drop expired holders and waiters that stopped asking, as of `now`. */
export function prune(row: LockRow, now: number): void {
  if (row.owner !== null && row.expiresAt <= now) row.owner = null
  for (const [owner, expiry] of Object.entries(row.shared)) if (expiry <= now) delete row.shared[owner]
  row.queue = row.queue.filter(([, , until]) => until > now)
  for (const [client, [, until]] of Object.entries(row.waiters)) if (until <= now) delete row.waiters[client]
}

/** The live waiters of a row, as `LockStore.waiters` lists them. */
export function waitersOf(row: LockRow | undefined, now: number): ListedWaiter[] {
  if (!row) return []
  return Object.entries(row.waiters)
    .filter(([, [, until]]) => until > now)
    .map(([clientId, [mode]]) => ({ clientId, mode: mode === 's' ? 'shared' : 'exclusive' }))
}

/** Whether `mode` could be granted now, ignoring the queue. */
export function free(row: LockRow, mode: LockMode): boolean {
  if (row.owner !== null) return false
  return mode === 'shared' || Object.keys(row.shared).length === 0
}

/** The latest moment anything in the row is live (a bound for `retryInMs`, and for sweeping). */
export function latestExpiry(row: LockRow): number {
  return Math.max(row.owner === null ? 0 : row.expiresAt, ...Object.values(row.shared))
}

export function holdersOf(row: LockRow | undefined, now: number): Holder[] {
  if (!row) return []
  return liveHolders(now, row.owner, row.expiresAt, Object.entries(row.shared))
}
