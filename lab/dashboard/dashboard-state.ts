import { DEFAULT_METRICS_NAMESPACE, METRIC_DIMENSIONS, type MetricKey } from '../../worker/aws/metric-names.js';
import { DASHBOARD_WIDGETS, type WidgetStatistic } from './dashboard-widgets.js';
import { metricPoints, seriesName } from './metric-lines.js';

/**
 * The lab dashboard's numbers, from the workers' EMF lines only: one-minute samples of each series, reduced by the
 * statistic each chart asks for (as CloudWatch reduces a period's data points), the setup-time distribution, the
 * totals and the warm pool of the last minute. Pure: lines in, state out.
 */

const MINUTE_MS = 60_000;

/** One line of a chart, a value (or null: no data) per minute of `DashboardState.minutes`. */
export interface SeriesState {
  readonly label: string;
  readonly right: boolean;
  readonly values: readonly (number | null)[];
}

export interface ChartState {
  readonly id: string;
  readonly title: string;
  readonly stacked: boolean;
  readonly series: readonly SeriesState[];
}

export interface HistogramBin {
  /** Lower bound, milliseconds (inclusive). */
  readonly fromMs: number;
  /** Upper bound, milliseconds (exclusive). */
  readonly toMs: number;
  readonly count: number;
}

export interface DashboardState {
  /** Start of each minute shown, epoch seconds, oldest first. */
  readonly minutes: readonly number[];
  readonly charts: readonly ChartState[];
  readonly totals: {
    readonly started: number;
    readonly connected: number;
    readonly ended: number;
    readonly failed: number;
    /** Failures per reason (the `Reason` dimension), only reasons seen. */
    readonly failedByReason: Readonly<Record<string, number>>;
  };
  readonly setupTime: {
    readonly count: number;
    readonly p50Ms: number | null;
    readonly p95Ms: number | null;
    readonly histogram: readonly HistogramBin[];
  };
  /** Audio received on each leg, mean over every call's sample (null: no call reported it). */
  readonly legs: {
    readonly sip: { readonly lossPct: number | null; readonly jitterMs: number | null; readonly concealmentPct: number | null };
    readonly room: { readonly lossPct: number | null; readonly jitterMs: number | null };
  };
  /** Idle and busy workers: the Sums of the latest minute that has a warm-pool sample (null: none yet). */
  readonly workers: { readonly idle: number | null; readonly busy: number | null; readonly minute: number | null };
  /** EMF documents read. */
  readonly lines: number;
}

export interface DashboardAggregatorOptions {
  /** The metrics' namespace. @default "Roomline" */
  readonly namespace?: string;
  /** Minutes the charts show, ending with the current one. @default 60 */
  readonly windowMinutes?: number;
  /** Width of a setup-time histogram bin, milliseconds. @default 500 */
  readonly setupBinMs?: number;
}

/** Accumulates EMF lines; `state(now)` reduces them for the page. */
export class DashboardAggregator {
  readonly #namespace: string;
  readonly #windowMinutes: number;
  readonly #setupBinMs: number;
  /** series name → minute start (ms) → values */
  readonly #series = new Map<string, Map<number, number[]>>();
  readonly #all = new Map<string, number[]>();
  #lines = 0;

  constructor(options: DashboardAggregatorOptions = {}) {
    this.#namespace = options.namespace ?? DEFAULT_METRICS_NAMESPACE;
    this.#windowMinutes = options.windowMinutes ?? 60;
    this.#setupBinMs = options.setupBinMs ?? 500;
  }

  /** Reads one stdout line; true if it was an EMF document with at least one Roomline metric. */
  add(line: string): boolean {
    const points = metricPoints(line, this.#namespace);
    if (points.length === 0) return false;
    this.#lines++;
    for (const point of points) {
      const name = seriesName(point.key, point.dimensions);
      const minute = Math.floor(point.at / MINUTE_MS) * MINUTE_MS;
      let byMinute = this.#series.get(name);
      if (byMinute === undefined) this.#series.set(name, (byMinute = new Map()));
      const values = byMinute.get(minute);
      if (values === undefined) byMinute.set(minute, [point.value]);
      else values.push(point.value);
      const all = this.#all.get(name);
      if (all === undefined) this.#all.set(name, [point.value]);
      else all.push(point.value);
    }
    return true;
  }

  state(nowMs: number): DashboardState {
    const last = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
    const minutes = Array.from({ length: this.#windowMinutes }, (_, i) => last - (this.#windowMinutes - 1 - i) * MINUTE_MS);
    const charts = DASHBOARD_WIDGETS.map((widget) => ({
      id: widget.id,
      title: widget.title,
      stacked: widget.stacked ?? false,
      series: widget.metrics.map((metric) => {
        const byMinute = this.#series.get(seriesName(metric.key, metric.dimensions ?? {}));
        return {
          label: metric.label,
          right: metric.right ?? false,
          values: minutes.map((minute) => reduce(byMinute?.get(minute), metric.statistic)),
        };
      }),
    }));
    const sum = (key: MetricKey) => this.#values(key).reduce((a, b) => a + b, 0);
    const failedByReason = Object.fromEntries(
      [...this.#all.entries()]
        .filter(([name]) => name.startsWith(`${seriesName('callsFailed', {})},${METRIC_DIMENSIONS.reason}=`))
        .map(([name, values]) => [name.slice(name.indexOf('=') + 1), values.reduce((a, b) => a + b, 0)]),
    );
    const setup = this.#values('setupTime');
    const mean = (key: MetricKey) => reduce(this.#values(key), 'Average');
    return {
      minutes: minutes.map((minute) => minute / 1000),
      charts,
      totals: { started: sum('callsStarted'), connected: sum('callsConnected'), ended: sum('callsEnded'), failed: sum('callsFailed'), failedByReason },
      setupTime: { count: setup.length, p50Ms: reduce(setup, 'p50'), p95Ms: reduce(setup, 'p95'), histogram: histogram(setup, this.#setupBinMs) },
      legs: {
        sip: { lossPct: mean('sipAudioLoss'), jitterMs: mean('sipAudioJitter'), concealmentPct: mean('sipAudioConcealment') },
        room: { lossPct: mean('roomAudioLoss'), jitterMs: mean('roomAudioJitter') },
      },
      workers: this.#workers(),
      lines: this.#lines,
    };
  }

  #values(key: MetricKey): readonly number[] {
    return this.#all.get(seriesName(key, {})) ?? [];
  }

  #workers(): DashboardState['workers'] {
    const idle = this.#series.get(seriesName('idleWorkers', {}));
    const busy = this.#series.get(seriesName('busyWorkers', {}));
    const minute = Math.max(-Infinity, ...(idle?.keys() ?? []), ...(busy?.keys() ?? []));
    if (!Number.isFinite(minute)) return { idle: null, busy: null, minute: null };
    return { idle: reduce(idle?.get(minute) ?? [0], 'Sum'), busy: reduce(busy?.get(minute) ?? [0], 'Sum'), minute: minute / 1000 };
  }
}

/** A period's statistic over its data points (null for no data), percentiles by nearest rank. */
export function reduce(values: readonly number[] | undefined, statistic: WidgetStatistic): number | null {
  if (values === undefined || values.length === 0) return null;
  switch (statistic) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'p50':
      return percentile(values, 50);
    case 'p95':
      return percentile(values, 95);
    default: {
      const unexpected: never = statistic;
      throw new TypeError(`unknown statistic ${String(unexpected)}`);
    }
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Bins of `binMs` from 0 to the largest value, each with its count. */
export function histogram(values: readonly number[], binMs: number): HistogramBin[] {
  if (values.length === 0) return [];
  const bins = Math.floor(Math.max(...values) / binMs) + 1;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) counts[Math.floor(value / binMs)]!++;
  return counts.map((count, i) => ({ fromMs: i * binMs, toMs: (i + 1) * binMs, count }));
}
