import type { PeerId } from '../subjects/redis-peers.js'

/** Messages between the contention cases and their worker processes (see contention-worker.ts). */
export type ContentionSubject = 'cachelock' | PeerId

export type ContentionRequest =
  | { type: 'init'; redisUrl: string; namespace: string }
  /** `waiters` callers take the lock in a loop for `durationMs` (sustained contention). */
  | { type: 'loop'; subject: ContentionSubject; key: string; waiters: number; durationMs: number }
  /** `waiters` callers each want the lock once, all at the same moment (a burst). */
  | { type: 'burst'; subject: ContentionSubject; key: string; waiters: number }
  /** One caller waits for the lock (held elsewhere); answers when its critical section starts. */
  | { type: 'once'; subject: ContentionSubject; key: string }
  /**
   * The floor of a wake-then-acquire handoff: wait for a message on `channel`, then send one
   * command (as a waiter would send its acquire); answers when that command's reply arrived.
   */
  | { type: 'wake'; channel: string }

/**
 * The answer to `once`: when the critical section started, as `process.hrtime.bigint()` in ns
 * (a decimal string). hrtime reads CLOCK_MONOTONIC, one clock for every process on the machine,
 * so it can be compared with the holder's release time taken in another process.
 */
export interface OnceResult {
  runningAt: string
}

export interface LoopResult {
  /** Critical sections entered before the window closed, per caller. */
  perCaller: number[]
  /** Acquisitions the library gave up on (its retry limit or timeout), each followed by a new try. */
  failures: number
  /** Distinct error names among the failures. */
  errors: string[]
  /** From the window's close until every caller had stopped. */
  drainMs: number
}

export interface BurstResult {
  /** From the burst's start until the last caller of this process had its grant and released. */
  makespanMs: number
  failures: number
  errors: string[]
  /** Callers still without the lock when the burst was cut short (see `BURST_LIMIT_MS`). */
  unserved: number
}
