import type { Row } from '../results.js'
import { pairedRatios, summarize } from '../runner/stats.js'
import type { Samples } from '../runner/interleave.js'

/** A result row from one contender's per-round samples. */
export function row(id: string, label: string, unit: string, samples: readonly number[], extra?: Row['extra']): Row {
  const result: Row = { id, label, unit, summary: summarize(samples), samples: [...samples] }
  if (extra) result.extra = extra
  return result
}

/** Rows for every contender of an interleaved run, in the order given. */
export function rowsOf(contenders: readonly { id: string; label: string }[], samples: Samples, unit: string): Row[] {
  return contenders.map(({ id, label }) => row(id, label, unit, samples[id] ?? []))
}

/** The paired (round-by-round) ratio of two contenders' samples, summarized. */
export function ratio(samples: Samples, numerator: string, denominator: string) {
  return summarize(pairedRatios(samples[numerator] ?? [], samples[denominator] ?? []))
}
