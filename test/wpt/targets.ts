import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { LockManager } from '@cachelock/core'
import { CACHELOCK_ERROR_EQUIVALENCES } from './applicability.js'
import type { ErrorEquivalence } from './harness/assertions.js'
import { NodeThreadWorker } from './harness/node-worker.js'
import { InThreadWorker, type WorkerHandle } from './harness/worker.js'
import { CONFORMANCE_STORES, type ConformanceStore } from './stores.js'

/** One WPT file's view of an implementation: the page's `navigator.locks` and its workers. */
export interface Realm {
  locks: unknown
  /** A second client of the same lock state, running `resources/worker.js`. */
  worker(): WorkerHandle
  close(): Promise<void>
}

/** An implementation the WPT files run against. */
export interface Target {
  name: string
  /** `store`: cachelock on a store (the conformance table); `reference`: a built-in implementation, to check the harness. */
  kind: 'store' | 'reference'
  equivalences: readonly ErrorEquivalence[]
  /** A fresh lock namespace for one file. */
  open(file: string): Realm
}

const RUN = randomBytes(4).toString('hex')

/** cachelock's `LockManager` on `store`, under a prefix no other file or run uses. */
function storeTarget(store: ConformanceStore): Target {
  return {
    name: store.name,
    kind: 'store',
    equivalences: CACHELOCK_ERROR_EQUIVALENCES,
    open(file) {
      const client = store.backend()
      const prefix = `wpt:${RUN}:${file}:`
      const managers = [new LockManager({ store: client(), prefix })]
      return {
        locks: managers[0],
        worker() {
          const manager = new LockManager({ store: client(), prefix })
          managers.push(manager)
          return new InThreadWorker(manager)
        },
        close: async () => {
          const waiting = await Promise.all(
            managers.map((manager) =>
              manager.query().then(
                ({ pending }) => pending.length,
                () => 0,
              ),
            ),
          )
          await Promise.all(managers.map((manager) => manager.close()))
          // A request still waiting retries within `sleep` ms and then fails on the closed
          // connection: give it that long, so it fails while this file's listener absorbs it.
          if (waiting.some((count) => count > 0)) await delay(2 * Math.max(...managers.map((manager) => manager.sleep)))
        },
      }
    },
  }
}

/**
 * Node's own `navigator.locks` (Node 24 has it; Node 20 does not), with
 * `CACHELOCK_WPT_REFERENCE=1`: a check of the harness itself, not part of the conformance table.
 * Node shares that lock state across the whole process, so run it one file at a time
 * (`-t "navigator.locks <file>"`) or one file's leftovers show up in the next one's `query()`.
 */
function nodeTarget(): Target | undefined {
  const locks = (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks
  if (!locks || process.env['CACHELOCK_WPT_REFERENCE'] !== '1') return undefined
  const workers: WorkerHandle[] = []
  return {
    name: `Node ${process.version} navigator.locks`,
    kind: 'reference',
    equivalences: [],
    open: () => ({
      locks,
      worker() {
        const worker = new NodeThreadWorker()
        workers.push(worker)
        return worker
      },
      close: async () => {
        for (const worker of workers.splice(0)) worker.terminate()
      },
    }),
  }
}

export function targets(): Target[] {
  const reference = nodeTarget()
  return [...CONFORMANCE_STORES.map(storeTarget), ...(reference ? [reference] : [])]
}
