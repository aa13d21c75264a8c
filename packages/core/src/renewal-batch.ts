import type { StoreDeadline } from './store-deadline.js'
import type { LockStore, Renewal } from './store.js'

/** A lease as the batch sees it. */
export interface Renewable {
  readonly name: string
  /** Its renewal is due: what to send, or `undefined` when it no longer renews (released, lost, finalized). */
  renewalDue(): Renewal | undefined
  /** The store's answer to that renewal, or why there is none. */
  renewalAnswered(sentAt: number, outcome: { kept: boolean } | { error: unknown }): void
  /**
   * The batch's bookkeeping, on the lease itself so that a scheduled lease costs no entry, map
   * slot or boxed number of its own: its place in the heap (-1 when not scheduled), ...
   */
  renewalIndex: number
  /** ... when it is due by (`performance.now()`, whole ms: a Smi, no boxed number per lease) ... */
  renewalDueAt: number
  /** ... and from when it may go with a batch that another lease's due time started. */
  renewalFrom: number
}

/**
 * Every automatic renewal of one manager, on one timer: when a lease's renewal falls due, every
 * lease whose renewal window has opened goes to the store with it, in one `extendMany` call (a
 * store without it gets one `extend` per lease, all sent together). So renewal round trips per
 * tick do not grow with the number of locks held, and no lease keeps a renewal timer of its own.
 *
 * A lease's window opens a thirtieth of its ttl before its due time (see `Lease`): renewing that
 * much early costs at most a tenth more renewals than renewing each exactly on time.
 */
export class RenewalBatch {
  readonly #store: LockStore
  readonly #deadline: StoreDeadline
  /** Scheduled leases, a min-heap by `renewalDueAt`; each lease knows its index. */
  readonly #heap: Renewable[] = []
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity

  constructor(store: LockStore, deadline: StoreDeadline) {
    this.#store = store
    this.#deadline = deadline
  }

  /** Renew `lease` by `due`, or from `earliest` on with others. Replaces its previous schedule. */
  schedule(lease: Renewable, due: number, earliest: number): void {
    // Rounded down: a renewal at most a millisecond early, and whole numbers stay unboxed.
    lease.renewalDueAt = Math.floor(due)
    lease.renewalFrom = Math.floor(Math.min(earliest, due))
    if (lease.renewalIndex === -1) {
      lease.renewalIndex = this.#heap.length
      this.#heap.push(lease)
    }
    place(this.#heap, lease.renewalIndex)
    if (due < this.#timerAt) this.#arm(due)
  }

  /**
   * Forget `lease` (released, lost). The timer stays: most locks are released long before their
   * renewal, and arming and clearing a timer for each would cost more than a spurious wake-up.
   */
  cancel(lease: Renewable): void {
    const index = lease.renewalIndex
    if (index === -1) return
    lease.renewalIndex = -1
    const last = this.#heap.pop()!
    if (last === lease) return
    this.#heap[index] = last
    last.renewalIndex = index
    place(this.#heap, index)
  }

  #arm(at: number): void {
    clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - performance.now()))
    // Housekeeping: a held lock must not keep a process that is done alive; its ttl frees it.
    this.#timer.unref()
  }

  #fire(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    const now = performance.now()
    const due: Renewable[] = []
    while (this.#heap.length > 0) {
      const top = this.#heap[0]!
      if (top.renewalFrom > now) break
      this.cancel(top)
      due.push(top)
    }
    const next = this.#heap[0]
    if (next) this.#arm(next.renewalDueAt)
    if (due.length > 0) this.#send(due)
  }
  #send(leases: Renewable[]): void {
    const sent: Renewable[] = []
    const renewals: Renewal[] = []
    for (const lease of leases) {
      const renewal = lease.renewalDue()
      if (renewal === undefined) continue
      sent.push(lease)
      renewals.push(renewal)
    }
    if (sent.length === 0) return
    const sentAt = performance.now()
    const store = this.#store
    const call =
      store.extendMany && renewals.length > 1
        ? () => store.extendMany!(renewals)
        : () => Promise.all(renewals.map((renewal) => store.extend(renewal.key, renewal.owner, renewal.ttlMs)))
    // Renewal is housekeeping: it must not keep a process that is done alive.
    this.#deadline.bound('extend', sent.length === 1 ? sent[0]!.name : `${sent.length} locks`, call, { keepAlive: false }).then(
      (kept) => sent.forEach((lease, index) => lease.renewalAnswered(sentAt, { kept: kept[index] === true })),
      (error: unknown) => sent.forEach((lease) => lease.renewalAnswered(sentAt, { error })),
    )
  }
}

/** Move the lease at `index` up or down to where the heap order puts it. */
function place(heap: Renewable[], index: number): void {
  const lease = heap[index]!
  let i = index
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.renewalDueAt <= lease.renewalDueAt) break
    heap[i] = heap[parent]!
    heap[i]!.renewalIndex = i
    i = parent
  }
  for (;;) {
    const left = 2 * i + 1
    if (left >= heap.length) break
    const right = left + 1
    const child = right < heap.length && heap[right]!.renewalDueAt < heap[left]!.renewalDueAt ? right : left
    if (heap[child]!.renewalDueAt >= lease.renewalDueAt) break
    heap[i] = heap[child]!
    heap[i]!.renewalIndex = i
    i = child
  }
  heap[i] = lease
  lease.renewalIndex = i
}
