import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics'

/** An OpenTelemetry SDK whose metrics are read on demand from the in-memory exporter. */
export function memorySdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when asked (forceFlush), never on a timer.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 2_147_483_647 })
  const provider = new MeterProvider({ readers: [reader] })
  return {
    provider,
    /** The data points of instrument `name` now, as plain objects. */
    points: async (name: string): Promise<{ attributes: Record<string, unknown>; value: unknown }[]> => {
      exporter.reset()
      await reader.forceFlush()
      return exporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[])
        .map((point) => ({ attributes: point.attributes, value: point.value }))
    },
    shutdown: () => provider.shutdown(),
  }
}

/** A counter's value for the data point with exactly these attributes (0 when absent). */
export function count(points: { attributes: Record<string, unknown>; value: unknown }[], attributes: Record<string, unknown>): number {
  const point = points.find((candidate) => JSON.stringify(sorted(candidate.attributes)) === JSON.stringify(sorted(attributes)))
  return point === undefined ? 0 : (point.value as number)
}

/** A histogram's data point with exactly these attributes. */
export function histogram(
  points: { attributes: Record<string, unknown>; value: unknown }[],
  attributes: Record<string, unknown>,
): Histogram | undefined {
  const point = points.find((candidate) => JSON.stringify(sorted(candidate.attributes)) === JSON.stringify(sorted(attributes)))
  return point?.value as Histogram | undefined
}

function sorted(attributes: Record<string, unknown>): [string, unknown][] {
  return Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1))
}
