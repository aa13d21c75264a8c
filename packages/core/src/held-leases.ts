import { Lease } from './lease.js'
import type { LockMode } from './store.js'

/**
 * One name's holders in one manager: nothing, the one lease (nearly always), or a Set while shared
 * holds overlap. Kept as a value in the queue's field, so a name with one holder keeps no Set.
 */
export type HeldLeases = Lease | Set<Lease> | undefined

/** `held` with `lease` added. */
export function withLease(held: HeldLeases, lease: Lease): HeldLeases {
  if (held === undefined) return lease
  if (held instanceof Lease) return new Set([held, lease])
  held.add(lease)
  return held
}

/** `held` without `lease`. */
export function withoutLease(held: HeldLeases, lease: Lease): HeldLeases {
  if (held === lease) return undefined
  if (!(held instanceof Set)) return held
  held.delete(lease)
  return held.size === 1 ? held.values().next().value : held
}

/** The leases, as a list of their own (ending one while iterating is safe). */
export function leaseList(held: HeldLeases): Lease[] {
  return held === undefined ? [] : held instanceof Lease ? [held] : [...held]
}

/** Whether a request in `mode` conflicts with none of them. */
export function admits(held: HeldLeases, mode: LockMode): boolean {
  if (held === undefined) return true
  if (mode === 'exclusive') return false
  if (held instanceof Lease) return held.mode !== 'exclusive'
  for (const lease of held) if (lease.mode === 'exclusive') return false
  return true
}
