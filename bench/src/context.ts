import type { CaseResult, MachineInfo, Mode } from './results.js'
import type { Progress } from './runner/progress.js'
import type { ServiceUrls } from './services.js'

/** How much work a run does. `quick` only proves every case still runs; its numbers mean little. */
export interface Settings {
  /** Interleaved rounds for latency cases. */
  rounds: number
  /** One latency sample's batch duration, ms. */
  batchMs: number
  warmupMs: number
  /** Rounds of the multi-process contention case, and how long each contender runs per round. */
  contendedRounds: number
  contendedWindowMs: number
  /** Handoffs timed per round, and rounds. */
  handoffRounds: number
  handoffsPerRound: number
  /** Locks held at once in the auto-extend case, and their ttls (renewal runs every ttl / 3). */
  heldLocks: number
  heldTtlsMs: number[]
  /** How long renewal traffic is counted for each ttl. */
  heldWindowMs: number
}

export const SETTINGS: Record<Mode, Settings> = {
  full: {
    rounds: 15,
    batchMs: 120,
    warmupMs: 300,
    contendedRounds: 5,
    contendedWindowMs: 1500,
    handoffRounds: 10,
    handoffsPerRound: 20,
    heldLocks: 10_000,
    heldTtlsMs: [6000, 12_000],
    heldWindowMs: 8000,
  },
  quick: {
    rounds: 3,
    batchMs: 10,
    warmupMs: 20,
    contendedRounds: 1,
    contendedWindowMs: 150,
    handoffRounds: 2,
    handoffsPerRound: 3,
    heldLocks: 300,
    heldTtlsMs: [600, 1200],
    heldWindowMs: 800,
  },
}

export interface BenchContext {
  mode: Mode
  settings: Settings
  urls: ServiceUrls
  progress: Progress
  /** Prefix of every key this run writes, so runs never see each other's leftovers. */
  namespace: string
  /** What the run is measured on; a case that connects to a server records its version here. */
  machine: MachineInfo
}

export interface BenchCase {
  id: string
  title: string
  /** Servers the case talks to; a missing one skips the case with a reason. */
  needs: readonly ('redis' | 'memcached' | 'postgres' | 'sentinel' | 'mariadb')[]
  run(context: BenchContext): Promise<Omit<CaseResult, 'id' | 'title' | 'durationMs'>>
}
