/** Order statistics of one set of samples. Quantiles interpolate linearly between ranks (type 7, as R and NumPy default). */
export interface Summary {
  median: number
  p25: number
  p75: number
  min: number
  max: number
  n: number
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = (sorted.length - 1) * q
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low)
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    median: quantile(sorted, 0.5),
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    n: sorted.length,
  }
}

/**
 * Ratios of two contenders measured in the same rounds, round by round. A round's two samples
 * were taken moments apart, so load that drifts over the run (another test suite starting) cancels
 * out of each ratio; the ratio of two run-wide medians would keep it.
 */
export function pairedRatios(numerator: readonly number[], denominator: readonly number[]): number[] {
  const n = Math.min(numerator.length, denominator.length)
  const ratios: number[] = []
  for (let i = 0; i < n; i++) ratios.push(numerator[i]! / denominator[i]!)
  return ratios
}
