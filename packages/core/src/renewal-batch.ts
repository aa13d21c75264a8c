import type { StoreDeadline } from './store-deadline.js'
import type { LockStore, Renewal } from './store.js'

/** A lease as the batch sees it. */
export interface Renewable {
  readonly name: string
  /** Its renewal is due: what to send, or `undefined` when it no longer renews (released, lost, finalized). */
  renewalDue(): Renewal | undefined
  /** The store's answer to that renewal, or why there is none. */
  renewalAnswered(sentAt: number, outcome: { kept: boolean } | { error: unknown }): void
}

interface Entry {
  readonly lease: Renewable
  /** Due by then (`performance.now()`). */
  readonly due: number
  /** May go from then on, with a batch that another lease's due time started. */
  readonly earliest: number
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
  /** Scheduled leases, each with its current entry (entries replaced in the heap are skipped). */
  readonly #scheduled = new Map<Renewable, Entry>()
  /** Min-heap of entries by `due`; may hold stale entries, skipped when popped. */
  readonly #heap: Entry[] = []
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity

  constructor(store: LockStore, deadline: StoreDeadline) {
    this.#store = store
    this.#deadline = deadline
  }

  /** Renew `lease` by `due`, or from `earliest` on with others. Replaces its previous schedule. */
  schedule(lease: Renewable, due: number, earliest: number): void {
    const entry: Entry = { lease, due, earliest: Math.min(earliest, due) }
    this.#scheduled.set(lease, entry)
    push(this.#heap, entry)
    if (due < this.#timerAt) this.#arm(due)
  }

  /**
   * Forget `lease` (released, lost). The timer stays: most locks are released long before their
   * renewal, and arming and clearing a timer for each would cost more than a spurious wake-up.
   */
  cancel(lease: Renewable): void {
    if (!this.#scheduled.delete(lease)) return
    // Cancelled entries stay in the heap until popped; rebuild it when they are most of it.
    if (this.#heap.length > 2 * this.#scheduled.size + 64) {
      this.#heap.length = 0
      for (const entry of this.#scheduled.values()) push(this.#heap, entry)
    }
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
      if (this.#scheduled.get(top.lease) !== top) {
        pop(this.#heap)
        continue
      }
      if (top.earliest > now) break
      pop(this.#heap)
      this.#scheduled.delete(top.lease)
      due.push(top.lease)
    }
    const next = this.#heap[0]
    if (next) this.#arm(next.due)
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

function push(heap: Entry[], entry: Entry): void {
  heap.push(entry)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.due <= entry.due) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = entry
}

function pop(heap: Entry[]): void {
  const last = heap.pop()!
  if (heap.length === 0) return
  let i = 0
  for (;;) {
    const left = 2 * i + 1
    if (left >= heap.length) break
    const right = left + 1
    const child = right < heap.length && heap[right]!.due < heap[left]!.due ? right : left
    if (heap[child]!.due >= last.due) break
    heap[i] = heap[child]!
    i = child
  }
  heap[i] = last
}
