import { METRIC_DIMENSIONS, METRICS, type MetricKey } from '../../worker/aws/metric-names.js';

/**
 * Reads the workers' Embedded Metric Format lines as CloudWatch does: each document gives, for every dimension set it
 * declares, one data point of each metric it declares, at its timestamp. Lines that are not EMF (the workers' logs
 * share stdout) or name a metric Roomline does not publish are left out.
 */

/** One data point: a metric, its dimensions other than `Deployment`, its value and time. */
export interface MetricPoint {
  readonly key: MetricKey;
  /** Dimensions other than `Deployment` (e.g. `{ Reason: 'SIP_BUSY' }`); empty for the deployment-wide series. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch milliseconds. */
  readonly at: number;
}

const KEY_BY_NAME: ReadonlyMap<string, MetricKey> = new Map(
  (Object.keys(METRICS) as MetricKey[]).map((key) => [METRICS[key].name, key]),
);

interface EmfDirective {
  readonly Namespace?: unknown;
  readonly Dimensions?: unknown;
  readonly Metrics?: unknown;
}

/** The data points of one stdout line (none for a line that is not an EMF document of `namespace`). */
export function metricPoints(line: string, namespace: string): MetricPoint[] {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"_aws"')) return [];
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return [];
  }
  const aws = document['_aws'] as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws?.Timestamp !== 'number' || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const at = aws.Timestamp;
  const points: MetricPoint[] = [];
  for (const directive of aws.CloudWatchMetrics as EmfDirective[]) {
    if (directive.Namespace !== namespace || !Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) continue;
    for (const set of directive.Dimensions as unknown[]) {
      if (!Array.isArray(set) || !set.every((name): name is string => typeof document[String(name)] === 'string')) continue;
      const dimensions = Object.fromEntries(
        set.filter((name) => name !== METRIC_DIMENSIONS.deployment).map((name) => [name, document[name] as string]),
      );
      for (const metric of directive.Metrics as { Name?: unknown; Unit?: unknown }[]) {
        const key = typeof metric.Name === 'string' ? KEY_BY_NAME.get(metric.Name) : undefined;
        const value = key === undefined ? undefined : document[METRICS[key].name];
        if (key === undefined || metric.Unit !== METRICS[key].unit || typeof value !== 'number' || !Number.isFinite(value)) continue;
        points.push({ key, dimensions, value, at });
      }
    }
  }
  return points;
}

/** The name of a series: its metric and its extra dimensions, in a fixed order. */
export function seriesName(key: MetricKey, dimensions: Readonly<Record<string, string>>): string {
  const dims = Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`);
  return [METRICS[key].name, ...dims].join(',');
}
