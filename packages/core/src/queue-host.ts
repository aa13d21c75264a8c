import type { GrantOrder } from './grant-order.js'
import type { NameQueue } from './name-queue.js'
import type { RenewalBatch } from './renewal-batch.js'
import type { StoreDeadline } from './store-deadline.js'
import type { LockStore } from './store.js'

/** What the queue needs from its manager. */
export interface QueueHost {
  readonly store: LockStore
  /** Bounds every store call (the manager's `storeTimeout`). */
  readonly deadline: StoreDeadline
  /** Delivers grants in the order their attempts were sent, across this manager's names. */
  readonly order: GrantOrder
  /** Sends the leases' automatic renewals together. */
  readonly renewals?: RenewalBatch
  readonly clientId: string
  readonly sleep: number
  /** The queue has nothing pending, held or running: the manager may forget it. */
  idle(queue: NameQueue): void
}
