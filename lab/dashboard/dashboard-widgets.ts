import { ERROR_CODE_NAMES } from '../../contracts/errors.js';
import { METRIC_DIMENSIONS, type MetricKey } from '../../worker/aws/metric-names.js';

/**
 * The lab dashboard's charts: the graph widgets of the CloudWatch dashboard (infra/constructs/observability.ts) that
 * read the workers' own metrics, with the same metrics, statistics and labels. (The widgets on the dial queue and on
 * the CPU of the worker and Janus services read AWS's metrics, which the lab has not.) test/infra checks that this
 * list and the construct's widgets name the same metrics.
 */

/** The statistics the dashboard draws, as CloudWatch names them. */
export const WIDGET_STATISTICS = ['Sum', 'Average', 'Maximum', 'p50', 'p95'] as const;
export type WidgetStatistic = (typeof WIDGET_STATISTICS)[number];

/** One line of a chart: a metric, the statistic of its one-minute samples, and the line's label. */
export interface WidgetMetric {
  readonly key: MetricKey;
  readonly statistic: WidgetStatistic;
  readonly label: string;
  /** Extra dimensions (beyond `Deployment`) of the line. @default none */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Drawn against the right axis. @default false */
  readonly right?: boolean;
}

export interface DashboardWidget {
  /** Stable id of the chart (its element on the page). */
  readonly id: string;
  readonly title: string;
  readonly metrics: readonly WidgetMetric[];
  /** Lines stacked (the failures by reason). @default false */
  readonly stacked?: boolean;
}

const line = (key: MetricKey, statistic: WidgetStatistic, label: string, more: Partial<WidgetMetric> = {}): WidgetMetric => ({
  key,
  statistic,
  label,
  ...more,
});

export const DASHBOARD_WIDGETS: readonly DashboardWidget[] = [
  {
    id: 'calls',
    title: 'Calls per minute',
    metrics: [
      line('callsStarted', 'Sum', 'Started'),
      line('callsConnected', 'Sum', 'Connected'),
      line('callsEnded', 'Sum', 'Ended'),
      line('callsFailed', 'Sum', 'Failed'),
    ],
  },
  {
    id: 'failed',
    title: 'Failed calls by reason',
    stacked: true,
    metrics: ERROR_CODE_NAMES.map((code) => line('callsFailed', 'Sum', code, { dimensions: { [METRIC_DIMENSIONS.reason]: code } })),
  },
  {
    id: 'setup',
    title: 'Setup time (receive to answer, ms)',
    metrics: [line('setupTime', 'p50', 'p50'), line('setupTime', 'p95', 'p95')],
  },
  {
    id: 'duration',
    title: 'Call duration (s)',
    metrics: [line('callDuration', 'p50', 'p50'), line('callDuration', 'p95', 'p95'), line('callDuration', 'Maximum', 'max')],
  },
  {
    id: 'quality',
    title: 'Audio quality received',
    metrics: [
      line('sipAudioLoss', 'Average', 'SIP loss %'),
      line('sipAudioConcealment', 'Average', 'SIP concealment %'),
      line('roomAudioLoss', 'Average', 'Room loss %'),
      line('sipAudioJitter', 'p95', 'SIP jitter p95 ms', { right: true }),
      line('roomAudioJitter', 'p95', 'Room jitter p95 ms', { right: true }),
    ],
  },
  {
    id: 'pool',
    title: 'Warm pool',
    metrics: [line('idleWorkers', 'Sum', 'Idle workers'), line('busyWorkers', 'Sum', 'Busy workers')],
  },
];
