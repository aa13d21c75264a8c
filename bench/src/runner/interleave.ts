/**
 * The measuring loop every case uses: contenders take turns, one sample each per round
 * (A, B, C, then C, B, A, …), so whatever drifts during the run — another engineer's test suite,
 * CPU frequency, a Redis background save — lands on all of them alike. The direction alternates
 * so that no contender always runs right after the same neighbour (JIT and GC debt carry over).
 */
export interface Contender {
  readonly id: string
  readonly label: string
  /** Once, before the rounds: connect, warm the JIT, size the batch. */
  prepare?(): Promise<void>
  /** One sample, in the case's unit. */
  measure(round: number): Promise<number>
  /** Once, after the rounds. */
  dispose?(): Promise<void>
}

export interface InterleaveOptions {
  rounds: number
  /** Called before each sample, for the progress line. */
  onSample?: (round: number, contender: Contender) => void
}

/** Samples per contender id, in round order (so index i of two contenders are neighbours in time). */
export type Samples = Record<string, number[]>

export async function interleave(contenders: readonly Contender[], options: InterleaveOptions): Promise<Samples> {
  const samples: Samples = {}
  for (const contender of contenders) {
    samples[contender.id] = []
    await contender.prepare?.()
  }
  try {
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const contender of order) {
        options.onSample?.(round, contender)
        samples[contender.id]!.push(await contender.measure(round))
      }
    }
  } finally {
    for (const contender of contenders) await contender.dispose?.()
  }
  return samples
}

export interface LatencyOptions {
  /** Target duration of one sample's batch. */
  batchMs: number
  /** Run the operation this long before measuring (JIT, connection, script cache). */
  warmupMs: number
  /** Callers running the operation at once, each in its own loop (default 1: one after the other). */
  concurrency?: number
}

/**
 * A contender that times a batch of operations and reports µs per operation (with `concurrency`
 * callers, the batch's wall time over all their operations: the inverse of throughput). The
 * batch size is fixed after the warm-up so every round does the same work; a batch of many
 * operations makes the timer's own cost negligible.
 */
export function latencyContender(id: string, label: string, op: () => Promise<unknown>, options: LatencyOptions): Contender {
  const concurrency = options.concurrency ?? 1
  let perCaller = 1
  const batch = async (count: number) => {
    const started = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = 0; i < count; i++) await op()
      }),
    )
    return performance.now() - started
  }
  return {
    id,
    label,
    async prepare() {
      let count = 0
      let elapsed = 0
      while (elapsed < options.warmupMs || count < 10) {
        elapsed += await batch(1)
        count++
      }
      const perRound = elapsed / count
      perCaller = Math.max(5, Math.round(options.batchMs / perRound))
    },
    async measure() {
      return ((await batch(perCaller)) * 1000) / (perCaller * concurrency)
    },
  }
}
