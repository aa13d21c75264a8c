import type { PendingRequest } from './pending-request.js'
import type { Handover } from './store.js'

/**
 * Whether a queue can take `handover` for its parked `request` now, without asking the store: the
 * release granted the lock to that request's refused attempt (its owner), so the request holds it
 * already, but only until `heldUntil` (a claim of at most the store's handoff grace, by this
 * process's clock). The queue then makes the lease with that deadline and renews it at once, so
 * the lease treats the lock as lost at `heldUntil` unless the renewal confirmed it.
 *
 * Not usable (and left to the queue's next attempt, which takes the handed lock over in the store)
 * when the request was settled or is no longer first, or the bound has passed.
 */
export function usable(
  handover: Handover,
  request: PendingRequest,
  head: PendingRequest | undefined,
): handover is Handover & { heldUntil: number } {
  return handover.heldUntil !== undefined && handover.heldUntil > performance.now() && !request.settled && head === request
}
