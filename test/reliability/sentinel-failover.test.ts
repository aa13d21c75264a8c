import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test, vi } from 'vitest'
import type { FailoverConfig } from './workers/failover-worker.js'
import { uniquePrefix } from './support/env.js'
import { analyzeFencing, type FencingAnalysis } from './support/fencing.js'
import { analyzeJournal, type JournalAnalysis } from './support/journal.js'
import { stopAll, Worker } from './support/processes.js'
import { report } from './support/report.js'
import {
  NODE_PORTS,
  SENTINEL_URL,
  cutReplicationLinks,
  freeze,
  kill,
  primaryPort,
  promoted,
  restoreTrio,
  until,
} from './support/sentinel.js'

// Two failovers, each waiting for Sentinel and for the killed node to rejoin, on a loaded machine.
vi.setConfig({ testTimeout: 300_000 })

/**
 * Redis Sentinel failover while holders keep taking one lock: does exclusion survive the primary's
 * death, with and without `waitReplicas`?
 *
 * Redis replicates asynchronously, so a grant can exist on the primary alone for a moment. The test
 * widens that moment until a loss is certain rather than lucky: the replica is paused (SIGSTOP) and
 * the primary's replication connection closed, so what the primary writes next reaches no replica;
 * one holder is then granted the lock and keeps its section open (like work that ignores its
 * signal); the primary is SIGKILLed and the replica resumed, and Sentinel promotes it.
 *
 * - Without the option the grant is gone on the new primary: the other holders take the lock while
 *   the first is still inside. The journal shows the overlap and the counter the lost updates.
 * - With `waitReplicas: 1` that grant is never reported: `WAIT` finds no replica, the grant is
 *   given back and the caller gets `LOCK_NOT_REPLICATED`. Nobody holds a lock the new primary lacks.
 * - Either way, each section's fenced write (its fencing token, checked by the referee) is refused
 *   exactly when it comes from a holder that was overtaken: tokens grow across the failover.
 */
const HOLDERS = 3
const TTL = 3000

interface Variant {
  label: string
  query: string
  waitReplicas: boolean
}

interface FailoverResult extends JournalAnalysis, FencingAnalysis {
  /** Sections completed (the counter must equal it when no update was lost). */
  expected: number
  count: number
  lostUpdates: number
  /** Failed requests per error code, over all holders. */
  errors: Record<string, number>
  /** From SIGKILL to Sentinel naming the new primary (which answers as a primary). */
  failoverMs: number
  /** From SIGKILL to the first section entered on the new primary. */
  recoveryMs: number
  /** Whether the first holder was holding a grant made after the replication link was cut when the primary died. */
  heldAtKill: boolean
  /** How the held lock's loss reached its holder, and when (after the kill). */
  lost?: unknown
  lostAfterMs?: number
}

const workers: Worker[] = []
afterAll(() => stopAll(workers))

async function failover(variant: Variant): Promise<FailoverResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cachelock-failover-'))
  const counterFile = join(dir, 'counter')
  const journalFile = join(dir, 'journal')
  writeFileSync(counterFile, '0')
  writeFileSync(journalFile, '')
  const config: FailoverConfig = {
    url: SENTINEL_URL + variant.query,
    prefix: uniquePrefix('failover'),
    name: 'order:42',
    ttl: TTL,
    pauseMs: 3,
    counterFile,
    journalFile,
  }
  const holders = Array.from({ length: HOLDERS }, () => new Worker('failover-worker.ts', config))
  workers.push(...holders)
  const [first] = holders as [Worker]
  const exits = () =>
    readFileSync(journalFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('X')).length
  const failures = (code: string) =>
    holders.flatMap((worker) => worker.all('failed')).filter((message) => (message['error'] as { code?: string }).code === code).length
  try {
    await Promise.all(holders.map((worker) => worker.next('ready', 60_000)))
    for (const worker of holders) worker.send({ cmd: 'go' })
    await until(() => exits() >= 30, 60_000, '30 sections before the failover')

    const old = await primaryPort()
    const replica = NODE_PORTS.find((port) => port !== old)!
    const thaw = await freeze(replica)
    let killedAt: number
    let heldAtKill: boolean
    try {
      await cutReplicationLinks(old)
      first.send({ cmd: 'hold' })
      // Without the option a grant now exists on the primary alone; with it, grants are refused.
      await until(() => first.all('holding').length > 0 || failures('LOCK_NOT_REPLICATED') >= 2, 10_000, 'a grant, or grants refused')
      heldAtKill = first.all('holding').length > 0
      await kill(old)
      killedAt = monotonicMs()
    } finally {
      thaw()
    }
    const exitsAtKill = exits()
    await promoted(old, 90_000)
    const failoverMs = monotonicMs() - killedAt
    // The killed node rejoins as the new primary's replica (with the option, grants need one).
    await restoreTrio()

    let lost: unknown
    let lostAfterMs: number | undefined
    if (!heldAtKill) {
      await first.next('holding', 60_000).catch((error: unknown) => {
        // Say what the holders were getting meanwhile: refusals, store errors, or nothing at all.
        const codes = holders.map((worker) =>
          worker.all('failed').reduce<Record<string, number>>((counts, message) => {
            const code = String((message['error'] as { code?: string }).code ?? 'other')
            return { ...counts, [code]: (counts[code] ?? 0) + 1 }
          }, {}),
        )
        const last = holders.map((worker) => worker.all('failed').at(-1)?.['error'])
        throw new Error(
          `${(error as Error).message}\nsections since the kill: ${exits() - exitsAtKill}; failures per holder: ${JSON.stringify(codes)}; ` +
            `the last one of each: ${JSON.stringify(last)}`,
        )
      })
    } else {
      // The others take the lock on the new primary, which never had the first holder's grant.
      await until(() => exits() >= exitsAtKill + 10, 60_000, '10 sections on the new primary')
      const message = await first.next('lost', 30_000)
      lost = message['error']
      lostAfterMs = Number(message['at']) - killedAt
    }
    const recoveryMs = firstEnterAfter(journalFile, killedAt) - killedAt
    first.send({ cmd: 'unhold' })
    const exitsAtUnhold = exits()
    await until(() => exits() >= exitsAtUnhold + 10, 60_000, '10 sections after the hold')

    for (const worker of holders) worker.send({ cmd: 'stop' })
    const done = await Promise.all(holders.map((worker) => worker.next('done', 60_000)))
    await Promise.all(holders.map((worker) => worker.stop()))
    for (const worker of holders) expect(worker.all('unhandled'), worker.stderr).toEqual([])

    const journal = analyzeJournal(journalFile)
    const count = Number(readFileSync(counterFile, 'utf8'))
    const errors: Record<string, number> = {}
    for (const message of done)
      for (const [code, n] of Object.entries(message['errors'] as Record<string, number>)) errors[code] = (errors[code] ?? 0) + n
    return {
      ...journal,
      ...analyzeFencing(journalFile),
      expected: journal.exited,
      count,
      lostUpdates: journal.exited - count,
      errors,
      heldAtKill,
      failoverMs,
      recoveryMs,
      lost,
      lostAfterMs,
    }
  } finally {
    await stopAll(holders)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Milliseconds on CLOCK_MONOTONIC, the clock the workers write in the journal. */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6

/** When the first section after `at` was entered, by the journal. */
function firstEnterAfter(journalFile: string, at: number): number {
  for (const line of readFileSync(journalFile, 'utf8').split('\n')) {
    const [kind, , when] = line.split(' ')
    if (kind === 'E' && Number(when) > at) return Number(when)
  }
  return Number.NaN
}

function describeResult(variant: Variant, result: FailoverResult): string {
  return (
    `${variant.label}: ${result.entered} sections, overlaps ${result.overlaps} (max ${result.maxInside} inside, ` +
    `longest ${result.longestOverlapMs.toFixed(0)} ms), counter ${result.count}/${result.expected} (${result.lostUpdates} lost), ` +
    `fenced writes ${result.writes}: ${result.stale} stale, ${result.rejected} rejected, ${result.staleAccepted} stale accepted, ` +
    `${result.currentRejected} current rejected, token regressions ${result.tokenRegressions}; errors ${JSON.stringify(result.errors)}; ` +
    `failover ${(result.failoverMs / 1000).toFixed(1)} s, first section on the new primary ${(result.recoveryMs / 1000).toFixed(1)} s after the kill` +
    (result.lostAfterMs === undefined
      ? ''
      : `, the overtaken holder told (${(result.lost as { reason?: string }).reason}) ${(result.lostAfterMs / 1000).toFixed(1)} s after the kill`)
  )
}

describe('Redis Sentinel failover (primary SIGKILLed while holders take one lock)', () => {
  test('without waitReplicas: the grant the primary did not replicate is lost; fencing rejects the stale holder', async () => {
    const variant: Variant = { label: 'without waitReplicas', query: '', waitReplicas: false }
    const result = await failover(variant)
    report('sentinel-failover/without-wait', { ...result }, describeResult(variant, result))
    // The loss really happened: the first holder was inside while others took the lock.
    expect(result.heldAtKill).toBe(true)
    expect(result.overlaps).toBeGreaterThanOrEqual(1)
    expect(result.stale).toBeGreaterThanOrEqual(1)
    expect(result.lost).toMatchObject({ name: 'LockLostError' })
    // Fencing: every write of the overtaken holder refused, every other write accepted.
    expect(result).toMatchObject({ staleAccepted: 0, currentRejected: 0, tokenRegressions: 0, malformed: 0 })
    expect(result.rejected).toBe(result.stale)
  })

  test('with waitReplicas 1: no grant is reported that the new primary lacks; no overlap, no lost update', async () => {
    const variant: Variant = { label: 'with waitReplicas 1', query: '?waitReplicas=1&waitTimeoutMs=100', waitReplicas: true }
    const result = await failover(variant)
    report('sentinel-failover/with-wait', { ...result }, describeResult(variant, result))
    expect(result).toMatchObject({ heldAtKill: false, overlaps: 0, maxInside: 1, stale: 0, rejected: 0, tokenRegressions: 0, malformed: 0 })
    expect(result.count).toBe(result.expected)
    expect(result.errors['LOCK_NOT_REPLICATED']).toBeGreaterThanOrEqual(2)
  })
})
