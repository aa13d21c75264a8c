import type { LockMode } from '../../store.js'

/**
 * The lock record kept at a lock's `~lock` key: one value that says both the mode and the
 * holders, so exclusive and shared exclude each other by construction and every change is one
 * compare-and-swap on one item.
 *
 * A shared record lists each holder with the ttl (in seconds, as sent to memcached) it last asked
 * for. The record's own ttl is the largest of these, set on every write, so the record outlives
 * every listed holder's item (see `memcached-store.ts`). Whether a listed holder is still alive is
 * decided by its own `~holder~` item, which memcached expires on its clock.
 */
export type LockRecord = ExclusiveRecord | SharedRecord

export interface ExclusiveRecord {
  mode: 'exclusive'
  owner: string
}

export interface SharedRecord {
  mode: 'shared'
  /** Owner → ttl in seconds it last asked for. */
  holders: Map<string, number>
}

export function exclusiveRecord(owner: string): ExclusiveRecord {
  return { mode: 'exclusive', owner }
}

export function sharedRecord(holders: Map<string, number>): SharedRecord {
  return { mode: 'shared', holders }
}

/** Whether `record` shows `owner` holding in `mode` (shared: listed; its item is checked apart). */
export function lists(record: LockRecord | undefined, owner: string, mode: LockMode): boolean {
  if (!record || record.mode !== mode) return false
  return record.mode === 'exclusive' ? record.owner === owner : record.holders.has(owner)
}

/** The record's ttl: its longest holder's. */
export function recordSeconds(record: SharedRecord): number {
  return Math.max(...record.holders.values())
}

// JSON keeps owners exact: JSON.stringify escapes lone surrogates instead of replacing them.
export function encodeRecord(record: LockRecord): Buffer {
  const json = record.mode === 'exclusive' ? { x: record.owner } : { s: Object.fromEntries(record.holders) }
  return Buffer.from(JSON.stringify(json), 'utf8')
}

/** The record in `value`. Throws on anything else: a foreign value at a lock key is not ours to overwrite. */
export function decodeRecord(value: Buffer, key: string): LockRecord {
  let json: unknown
  try {
    json = JSON.parse(value.toString('utf8'))
  } catch {
    json = undefined
  }
  if (typeof json === 'object' && json !== null) {
    const { x, s } = json as { x?: unknown; s?: unknown }
    if (typeof x === 'string') return exclusiveRecord(x)
    if (typeof s === 'object' && s !== null) {
      const holders = new Map<string, number>()
      for (const [owner, seconds] of Object.entries(s)) if (typeof seconds === 'number' && seconds > 0) holders.set(owner, seconds)
      if (holders.size > 0) return sharedRecord(holders)
    }
  }
  throw new Error(`memcached item ${JSON.stringify(key)} does not hold a cachelock record (another program writes to this key?)`)
}
