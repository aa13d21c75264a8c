import { evaluateInScope } from './evaluate.js'
import { vendoredSource } from './vendored.js'

/**
 * The page's side of a `Worker`: what `resources/helpers.js` (`postToWorkerAndWait`) and the tests
 * use — `postMessage`, `message` events carrying `data`, and `terminate()`.
 */
export abstract class WorkerHandle extends EventTarget {
  abstract postMessage(data: unknown): void
  abstract terminate(): void
}

/** The path of the only worker script the Web Locks files start. */
export const WORKER_SCRIPT = 'resources/worker.js'

export function checkWorkerUrl(url: unknown): void {
  if (url !== WORKER_SCRIPT) throw new Error(`The harness runs only ${WORKER_SCRIPT} as a worker, got ${String(url)}`)
}

/**
 * The global of a worker running in this thread: `self`, `navigator.locks` (its own lock manager,
 * a separate client of the same lock state) and `postMessage` back to the page.
 */
class WorkerGlobal extends EventTarget {
  readonly self = this
  readonly navigator: { readonly locks: unknown }
  readonly #post: (data: unknown) => void

  constructor(locks: unknown, post: (data: unknown) => void) {
    super()
    this.navigator = { locks }
    this.#post = post
  }

  postMessage(data: unknown): void {
    this.#post(data)
  }
}

/** Messages cross between page and worker as they do between threads: cloned, and in a later task. */
function deliver(target: EventTarget, data: unknown): void {
  const copy = structuredClone(data)
  setImmediate(() => target.dispatchEvent(new MessageEvent('message', { data: copy })))
}

/**
 * `resources/worker.js`, unmodified, as a second client in this thread, with `locks` as its
 * `navigator.locks` (for cachelock: a second `LockManager` on the same store and prefix, like
 * another app server). `terminate()` does what a browser does when a worker goes away: the locks
 * it holds are released (through worker.js's own `release` message) and nothing more is delivered.
 */
export class InThreadWorker extends WorkerHandle {
  readonly #global: WorkerGlobal
  readonly #held = new Set<number>()
  #terminated = false

  constructor(locks: unknown) {
    super()
    this.#global = new WorkerGlobal(locks, (data) => {
      if (this.#terminated) return
      const reply = data as { ack?: string; lock_id?: number }
      if (reply.ack === 'request' && typeof reply.lock_id === 'number') this.#held.add(reply.lock_id)
      if (reply.ack === 'release' && typeof reply.lock_id === 'number') this.#held.delete(reply.lock_id)
      deliver(this, data)
    })
    evaluateInScope(vendoredSource(WORKER_SCRIPT), `web-locks/${WORKER_SCRIPT}`, this.#global)
  }

  postMessage(data: unknown): void {
    if (!this.#terminated) deliver(this.#global, data)
  }

  terminate(): void {
    if (this.#terminated) return
    const held = [...this.#held]
    this.#terminated = true
    for (const lockId of held) deliver(this.#global, { op: 'release', lock_id: lockId })
  }
}
