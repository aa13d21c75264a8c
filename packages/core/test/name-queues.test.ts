import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { GrantOrder } from '../src/grant-order.js'
import type { Lease } from '../src/lease.js'
import { NameQueues } from '../src/name-queues.js'
import { waitInQueue } from '../src/pending-request.js'
import { RenewalBatch } from '../src/renewal-batch.js'
import { resolveRequestOptions, resolveManagerOptions } from '../src/resolve-options.js'
import { StoreDeadline } from '../src/store-deadline.js'
import { MemoryStore } from '../src/stores/memory/memory-store.js'

/** A manager's queues, as its manager makes them, over a memory store. */
function managerQueues(): { queues: NameQueues; lock: (name: string) => Promise<Lease> } {
  const store = new MemoryStore()
  const deadline = new StoreDeadline(2_000)
  const defaults = resolveManagerOptions({ store }, 'options')
  const queues = new NameQueues(
    { store, deadline, order: new GrantOrder(), renewals: new RenewalBatch(store, deadline), clientId: 'queues-test', sleep: 50 },
    (name) => `lock:${name}`,
  )
  const options = resolveRequestOptions(undefined, 'options', defaults, false)
  const lock = async (name: string) => (await waitInQueue(queues.of(name), name, options, false, 'reject'))!
  return { queues, lock }
}

describe("a manager's queues", () => {
  it('forget the name of a lock taken once and released', async () => {
    const { queues, lock } = managerQueues()
    await (await lock('order:1')).release()
    await nextTurn()
    expect(queues.size).toBe(0)
  })

  it('forget the names whose locks were released, once the burst of calls is over', async () => {
    const { queues, lock } = managerQueues()
    const leases = await Promise.all(Array.from({ length: 50 }, (_, i) => lock(`order:${i}`)))
    await nextTurn()
    expect(queues.size).toBe(50)
    await Promise.all(leases.map((lease) => lease.release()))
    await nextTurn()
    expect(queues.size).toBe(0)
    expect(queues.inUse()).toEqual([])
  })

  it('keep the queue of a name locked again before then, and forget it once that lock is released', async () => {
    const { queues, lock } = managerQueues()
    const first = await lock('order:1')
    const queue = queues.get('order:1')
    await first.release()
    expect(queues.inUse()).toEqual([])
    const again = await lock('order:1')
    expect(queues.get('order:1')).toBe(queue)
    await nextTurn()
    expect(queues.inUse()).toEqual([queue])
    await again.release()
    await nextTurn()
    expect(queues.size).toBe(0)
  })

  it('keep no list of waiting requests for a name only held: all share the frozen empty one', async () => {
    const { queues, lock } = managerQueues()
    const leases = [await lock('order:1'), await lock('order:2')]
    const [first, second] = [queues.get('order:1')!.pending, queues.get('order:2')!.pending]
    expect(first).toEqual([])
    expect(first).toBe(second)
    expect(Object.isFrozen(first)).toBe(true)
    await Promise.all(leases.map((lease) => lease.release()))
  })
})
