import { readFileSync } from 'node:fs'

/**
 * The referee for fenced writes, replayed from the failover test's journal. Besides the enter and
 * exit records (`E pid ms token`, `X pid ms`), each section appends `F pid ms token` for a write it
 * makes with its fencing token. The journal is one O_APPEND file, so its order is the order in which
 * the writes reached the referee. A fenced store accepts a write only if its token is ≥ the largest
 * token it accepted before; the replay applies exactly that rule.
 */
export interface FencingAnalysis {
  /** Fenced writes made. */
  writes: number
  /** Writes the referee refused (a smaller token than one it had accepted). */
  rejected: number
  /**
   * Writes by a holder whose lock had been taken over: a section that entered later had already
   * written. Only a lost lock produces them (never an ordinary handoff, where a section writes
   * before it exits and the next one enters after).
   */
  stale: number
  /** Stale writes the referee accepted: fencing failed to stop the stale holder. Must be 0. */
  staleAccepted: number
  /** Current writes the referee refused: a newer grant carried a smaller token. Must be 0. */
  currentRejected: number
  /** Grants (enter records) whose token was not larger than every earlier grant's. Must be 0. */
  tokenRegressions: number
}

export function analyzeFencing(file: string): FencingAnalysis {
  const result: FencingAnalysis = { writes: 0, rejected: 0, stale: 0, staleAccepted: 0, currentRejected: 0, tokenRegressions: 0 }
  const sectionOf = new Map<string, number>() // pid → position of its current section's enter record
  let entered = 0
  let latestWriter = -1 // the latest-entered section that has written
  let largestAccepted = -Infinity
  let largestGranted = -Infinity
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, pid = '', , tokenText] = line.split(' ')
    const token = Number(tokenText)
    if (kind === 'E') {
      if (token <= largestGranted) result.tokenRegressions++
      largestGranted = Math.max(largestGranted, token)
      sectionOf.set(pid, entered++)
    } else if (kind === 'F') {
      const section = sectionOf.get(pid) ?? -1
      const stale = latestWriter > section
      const accepted = token >= largestAccepted
      result.writes++
      if (accepted) largestAccepted = token
      else result.rejected++
      if (stale) result.stale++
      if (stale && accepted) result.staleAccepted++
      if (!stale && !accepted) result.currentRejected++
      latestWriter = Math.max(latestWriter, section)
    }
  }
  return result
}
