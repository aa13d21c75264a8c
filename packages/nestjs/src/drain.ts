import type { LockManager } from '@cachelock/core'

/** What `drainLocks` found when it stopped waiting. */
export interface DrainResult {
  /** Nothing held or queued by this manager any more. */
  drained: boolean
  /** The names this manager still held or waited for when the time ran out (may repeat a name). */
  busy: string[]
  /** The store could not be asked (it failed or did not answer in time). */
  error?: unknown
}

const POLL_MS = 25

/**
 * Wait until `locks` holds no lock and has no request queued, for at most `timeoutMs`: the work
 * that holds them finishes and releases them, so the store can then be closed without leaving
 * locks behind for other instances to wait out.
 */
export async function drainLocks(locks: LockManager, timeoutMs: number): Promise<DrainResult> {
  const started = performance.now()
  for (;;) {
    const remaining = timeoutMs - (performance.now() - started)
    let busy: string[]
    try {
      busy = await withDeadline(busyNames(locks), Math.max(remaining, 0))
    } catch (error) {
      return { drained: false, busy: [], error }
    }
    if (busy.length === 0) return { drained: true, busy }
    if (remaining <= 0) return { drained: false, busy }
    // Shutdown awaits this wait, so the timer keeps the process alive until it settles.
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, remaining)))
  }
}

async function busyNames(locks: LockManager): Promise<string[]> {
  const { held, pending } = await locks.query()
  return [...held.filter((lock) => lock.clientId === locks.clientId), ...pending].map((lock) => lock.name)
}

const timedOut = Symbol('timed out')

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<typeof timedOut>((resolve) => (timer = setTimeout(resolve, ms, timedOut)))
  try {
    const result = await Promise.race([work, deadline])
    if (result === timedOut) throw new Error(`The lock store did not answer within ${ms} ms`)
    return result
  } finally {
    clearTimeout(timer)
  }
}
