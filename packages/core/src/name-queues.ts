import { NameQueue } from './name-queue.js'
import type { QueueHost } from './queue-host.js'

/**
 * A manager's queues, one per name that has something pending, held or out. A queue that goes
 * idle is forgotten once the burst of calls that left it idle is over (at the next `setImmediate`),
 * if it is still idle then: a name locked again meanwhile, as in a loop of `withLock`, keeps its
 * queue rather than making one per call, and a manager keeps nothing for the names it is done with.
 */
export class NameQueues {
  readonly #byName = new Map<string, NameQueue>()
  /** Queues that went idle since the last `#forget`. */
  readonly #idle = new Set<NameQueue>()
  readonly #host: QueueHost
  readonly #keyFor: (name: string) => string

  constructor(host: Omit<QueueHost, 'idle'>, keyFor: (name: string) => string) {
    this.#host = { ...host, idle: (queue) => this.#wentIdle(queue) }
    this.#keyFor = keyFor
  }

  /** How many names a queue is kept for (idle ones not yet forgotten included). */
  get size(): number {
    return this.#byName.size
  }

  /** The queue of `name`, made if there is none. */
  of(name: string): NameQueue {
    let queue = this.#byName.get(name)
    if (!queue) this.#byName.set(name, (queue = new NameQueue(this.#host, name, this.#keyFor(name))))
    return queue
  }

  /** The queue of `name`, if one is kept. */
  get(name: string): NameQueue | undefined {
    return this.#byName.get(name)
  }

  /** The queues that have something pending, held or out. */
  inUse(): NameQueue[] {
    return [...this.#byName.values()].filter((queue) => !queue.isIdle())
  }

  #wentIdle(queue: NameQueue): void {
    if (this.#idle.size === 0) setImmediate(() => this.#forget()).unref()
    this.#idle.add(queue)
  }

  #forget(): void {
    for (const queue of this.#idle) if (queue.isIdle() && this.#byName.get(queue.name) === queue) this.#byName.delete(queue.name)
    this.#idle.clear()
  }
}
