import { storeError } from './errors.js'
import type { NameQueues } from './name-queues.js'
import type { StoreDeadline } from './store-deadline.js'
import type { Holder, LockMode, LockStore, Waiter } from './store.js'
import { clientIdOf } from './tokens.js'

/** One entry of `query()`. */
export interface LockInfo {
  name: string
  mode: LockMode
  /** The manager holding or requesting it (`LockManager.clientId`). */
  clientId: string
}

/** What `query()` returns: a snapshot, possibly stale a moment later. */
export interface LockManagerSnapshot {
  held: LockInfo[]
  pending: LockInfo[]
}

/** The manager's parts a snapshot reads. */
export interface SnapshotSource {
  readonly queues: NameQueues
  readonly store: LockStore
  readonly deadline: StoreDeadline
  readonly clientId: string
}

/**
 * `query()`: the names this manager holds or waits for, its own held and pending requests (exact),
 * and the other managers' holders and waiters of those names as the store reports them (waiters
 * only from a store with `waiters`).
 */
export async function snapshot(source: SnapshotSource): Promise<LockManagerSnapshot> {
  const { clientId } = source
  // A request whose store attempt is out is neither pending nor held yet: wait for the answers,
  // so that what this manager reports of itself is exact. The other clients' holds are read
  // meanwhile: both are bounded by storeTimeout, and together take no longer than one of them.
  const queues = source.queues.inUse()
  const [others, waiting] = await Promise.all([
    Promise.all(queues.map((queue) => storeHolders(source, queue.name, queue.key))),
    Promise.all(queues.map((queue) => storeWaiters(source, queue.name, queue.key))),
    Promise.all(queues.map((queue) => queue.settled())),
  ])
  // This manager's own part is read now, after the store answered: its holds from its leases,
  // its requests from its queues, both as of the same moment.
  const held: LockInfo[] = []
  const pending: LockInfo[] = []
  for (const queue of source.queues.inUse()) {
    for (const lease of queue.held) held.push({ name: queue.name, mode: lease.mode, clientId })
    for (const request of queue.pending) pending.push({ name: queue.name, mode: request.mode, clientId })
  }
  for (const [i, queue] of queues.entries()) {
    for (const holder of others[i]!) {
      const holderId = clientIdOf(holder.owner)
      if (holderId !== clientId) held.push({ name: queue.name, mode: holder.mode, clientId: holderId })
    }
    for (const waiter of waiting[i]!)
      if (waiter.clientId !== clientId) pending.push({ name: queue.name, mode: waiter.mode, clientId: waiter.clientId })
  }
  return { held, pending }
}

/** The holders of `key`, bounded by `storeTimeout`; a failure is a `LockError` naming `name`. */
export async function storeHolders(source: Omit<SnapshotSource, 'queues' | 'clientId'>, name: string, key: string): Promise<Holder[]> {
  try {
    return await source.deadline.bound('query', name, () => source.store.holders(key), { keepAlive: true })
  } catch (cause) {
    throw storeError('query', name, cause)
  }
}

/** The managers the store sees waiting for `key` (none without `waiters`), bounded like `storeHolders`. */
async function storeWaiters(source: SnapshotSource, name: string, key: string): Promise<Waiter[]> {
  const { store } = source
  if (!store.waiters) return []
  try {
    return await source.deadline.bound('query', name, () => store.waiters!(key), { keepAlive: true })
  } catch (cause) {
    throw storeError('query', name, cause)
  }
}
