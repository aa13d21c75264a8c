import { MemoryStore, type LockStore } from '@cachelock/core'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A memory store whose operations can be made to fail or hang, to test how failures surface. */
export class FlakyStore extends MemoryStore {
  failing: Set<keyof LockStore> = new Set()
  hanging: Set<keyof LockStore> = new Set()
  /** Calls held back until `resume()`, then run against the store (an answer that arrives late). */
  paused: Set<keyof LockStore> = new Set()
  calls: string[] = []
  #resumers: (() => void)[] = []
  /** Every operation answers after this many ms, like a store across a network. */
  latencyMs = 0
  /** Per key: its operations answer after this many ms instead (keys on a slower server). */
  keyLatencyMs = new Map<string, number>()

  constructor() {
    super()
    for (const method of ['acquire', 'release', 'extend', 'steal', 'forceRelease', 'holders'] as const) {
      const original = this[method].bind(this) as (...args: unknown[]) => Promise<unknown>
      Object.defineProperty(this, method, {
        value: (...args: unknown[]) => {
          this.calls.push(method)
          if (this.hanging.has(method)) return new Promise(() => undefined)
          if (this.paused.has(method)) return new Promise<void>((resume) => this.#resumers.push(resume)).then(() => original(...args))
          if (this.failing.has(method)) return Promise.reject(new Error(`connection lost during ${method}`))
          const key = typeof args[0] === 'string' ? args[0] : (args[0] as { key: string }).key
          const latency = this.keyLatencyMs.get(key) ?? this.latencyMs
          if (latency > 0) return sleep(latency).then(() => original(...args))
          return original(...args)
        },
      })
    }
  }

  /** Let every paused call through to the store. */
  resume(): void {
    this.paused.clear()
    for (const resume of this.#resumers.splice(0)) resume()
  }
}
