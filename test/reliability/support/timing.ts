/** The machine's monotonic clock in ms: the same clock the workers stamp their messages with. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** How long `promise` took to settle, and how. */
export async function timed<T>(promise: Promise<T>): Promise<{ ms: number } & ({ ok: true; value: T } | { ok: false; error: unknown })> {
  const started = nowMs()
  try {
    const value = await promise
    return { ms: nowMs() - started, ok: true, value }
  } catch (error) {
    return { ms: nowMs() - started, ok: false, error }
  }
}

/**
 * Slack on top of a computed bound, for a loaded 2-core machine (other suites, eight worker
 * processes). Bounds in these tests are "the protocol's own limit + slack", never a tight timing.
 */
export const SLACK_MS = 1500
