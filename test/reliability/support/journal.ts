import { readFileSync } from 'node:fs'

/**
 * Reading the exclusion test's journal: one line per section boundary, `E pid ms` on entering and
 * `X pid ms` on leaving, appended by every process to one O_APPEND file. The kernel serializes
 * appends, so the file's order is the real order of the events, whatever the clocks say.
 */
export interface JournalAnalysis {
  /** Sections entered. */
  entered: number
  /** Sections left (fewer than entered: a process died inside one). */
  exited: number
  /** Sections entered while another process was inside: 0 means mutual exclusion held. */
  overlaps: number
  /** The most processes inside at once (1 when exclusion held). */
  maxInside: number
  /** The longest time two processes were inside together, by the monotonic clock, in ms. */
  longestOverlapMs: number
  /** Lines that do not parse, or an exit with no matching entry: the journal itself is broken. */
  malformed: number
}

export function analyzeJournal(file: string): JournalAnalysis {
  const inside = new Map<number, number>() // pid → when it entered
  const result: JournalAnalysis = { entered: 0, exited: 0, overlaps: 0, maxInside: 0, longestOverlapMs: 0, malformed: 0 }
  // When the current overlap began (a second process entered), or undefined.
  let overlapSince: number | undefined
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue
    const [kind, pidText, atText] = line.split(' ')
    // Fenced-write records (the failover test's) are the referee's business: see fencing.ts.
    if (kind === 'F') continue
    const pid = Number(pidText)
    const at = Number(atText)
    if ((kind !== 'E' && kind !== 'X') || !Number.isInteger(pid) || !Number.isFinite(at)) {
      result.malformed++
      continue
    }
    if (kind === 'E') {
      result.entered++
      if (inside.size > 0) {
        result.overlaps++
        overlapSince ??= at
      }
      inside.set(pid, at)
      result.maxInside = Math.max(result.maxInside, inside.size)
    } else {
      if (!inside.delete(pid)) result.malformed++
      result.exited++
      if (overlapSince !== undefined && inside.size <= 1) {
        result.longestOverlapMs = Math.max(result.longestOverlapMs, at - overlapSince)
        overlapSince = undefined
      }
    }
  }
  return result
}
