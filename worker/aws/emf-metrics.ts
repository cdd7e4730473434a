import type { ErrorCode } from '../../contracts/errors.js';
import type { QualitySummary } from '../../contracts/call-record.js';
import {
  DEFAULT_METRICS_NAMESPACE,
  METRIC_DIMENSIONS,
  METRICS,
  type MetricKey,
} from './metric-names.js';

/**
 * CloudWatch metrics as Embedded Metric Format (EMF): one JSON document per line on stdout. On Fargate the awslogs
 * driver ships stdout to CloudWatch Logs, which turns each document into metric data points; nothing else (no agent,
 * no PutMetricData permission) is needed.
 *
 * Dimensions are the deployment's name and, for failures, the error code. Never a callId.
 */

/** What a worker is doing, as reported to the warm-pool gauge. */
export const WORKER_STATES = ['starting', 'idle', 'busy'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export interface EmfMetricsOptions {
  /** Value of the `Deployment` dimension (e.g. the stack name). */
  readonly deployment: string;
  /** CloudWatch namespace. @default "Roomline" */
  readonly namespace?: string;
  /** Where each EMF line goes (without trailing newline). @default a write of the line and "\n" to process.stdout */
  readonly write?: (line: string) => void;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** One EMF document: the `_aws` metadata, the dimension values and the metric values. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

type MetricValues = Partial<Record<MetricKey, number>>;

/**
 * The typed metrics API the worker calls. Each method writes one EMF line at once (no buffering, so nothing is lost
 * when the process exits after its call). Values that are not finite numbers, or negative, are left out.
 */
export class CallMetrics {
  readonly namespace: string;
  readonly deployment: string;
  readonly #write: (line: string) => void;
  readonly #now: () => number;

  constructor(options: EmfMetricsOptions) {
    this.namespace = options.namespace ?? DEFAULT_METRICS_NAMESPACE;
    this.deployment = options.deployment;
    this.#write = options.write ?? ((line) => void process.stdout.write(`${line}\n`));
    this.#now = options.now ?? Date.now;
  }

  /** A worker claimed a call (call once per call attempt, right after the claim succeeded). */
  callStarted(): void {
    this.#emit({ callsStarted: 1 });
  }

  /** The SIP peer answered; `setupMs` is the time from receiving the dial message to the answer. */
  callConnected(setupMs: number): void {
    this.#emit({ callsConnected: 1, setupTime: setupMs });
  }

  /** The call ended FAILED with this error code (published in total and per reason). */
  callFailed(reason: ErrorCode): void {
    this.#emit({ callsFailed: 1 }, { [METRIC_DIMENSIONS.reason]: reason });
  }

  /** A connected call ended normally after `durationS` seconds of conversation. */
  callEnded(durationS: number): void {
    this.#emit({ callsEnded: 1, callDuration: durationS });
  }

  /** Audio quality of a call, from its final quality summary (loss and concealment as percent, jitter in ms). */
  callQuality(quality: QualitySummary): void {
    const sipIn = quality.sip.audioIn;
    const roomIn = quality.room.audioIn;
    this.#emit({
      ...optional('sipAudioLoss', percent(sipIn?.lossRate)),
      ...optional('sipAudioJitter', sipIn?.jitterMs),
      ...optional('sipAudioConcealment', percent(sipIn?.concealmentRate)),
      ...optional('roomAudioLoss', percent(roomIn?.lossRate)),
      ...optional('roomAudioJitter', roomIn?.jitterMs),
    });
  }

  /**
   * One sample of the warm-pool gauge: `IdleWorkers` 1 when idle, `BusyWorkers` 1 when in a call (a starting worker
   * reports neither). Call it through `WorkerStateGauge`, which sends exactly one sample per wall-clock minute so that
   * the per-minute Sum counts workers.
   */
  workerState(state: WorkerState): void {
    switch (state) {
      case 'starting':
        return;
      case 'idle':
        this.#emit({ idleWorkers: 1, busyWorkers: 0 });
        return;
      case 'busy':
        this.#emit({ idleWorkers: 0, busyWorkers: 1 });
        return;
      default: {
        const unexpected: never = state;
        throw new TypeError(`unknown worker state ${String(unexpected)}`);
      }
    }
  }

  #emit(values: MetricValues, extraDimensions: Readonly<Record<string, string>> = {}): void {
    const usable = Object.entries(values).filter(
      (entry): entry is [MetricKey, number] => Number.isFinite(entry[1]) && (entry[1] as number) >= 0,
    );
    if (usable.length === 0) return;
    const baseDimensions = [METRIC_DIMENSIONS.deployment];
    const extraNames = Object.keys(extraDimensions);
    const dimensionSets: string[][] = extraNames.length === 0 ? [baseDimensions] : [baseDimensions, [...baseDimensions, ...extraNames]];
    const document: EmfDocument = {
      _aws: {
        Timestamp: this.#now(),
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: dimensionSets,
            Metrics: usable.map(([key]) => ({ Name: METRICS[key].name, Unit: METRICS[key].unit })),
          },
        ],
      },
      [METRIC_DIMENSIONS.deployment]: this.deployment,
      ...extraDimensions,
      ...Object.fromEntries(usable.map(([key, value]) => [METRICS[key].name, value])),
    };
    this.#write(JSON.stringify(document));
  }
}

function percent(rate: number | undefined): number | undefined {
  return rate === undefined ? undefined : rate * 100;
}

function optional(key: MetricKey, value: number | undefined): MetricValues {
  return value === undefined ? {} : { [key]: value };
}

export interface WorkerStateGaugeOptions {
  /** Second within each minute at which the sample is sent. @default a random second from 5 to 49 */
  readonly secondOfMinute?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * Sends this worker's state (idle or busy) once per wall-clock minute, at a fixed second within the minute. One
 * sample per worker per minute means the minute's Sum of `IdleWorkers` is the number of idle workers, which the
 * construct's scaling policy, dashboard and "no idle workers" alarm read.
 *
 * ```ts
 * const gauge = new WorkerStateGauge(metrics);
 * gauge.start();          // at process start (state "starting": no sample)
 * gauge.set('idle');      // browser and Janus session ready, about to poll the queue
 * gauge.set('busy');      // dial message received
 * gauge.stop();           // in teardown
 * ```
 */
export class WorkerStateGauge {
  #state: WorkerState = 'starting';
  #timer: NodeJS.Timeout | undefined;
  readonly #metrics: CallMetrics;
  readonly #secondOfMinute: number;
  readonly #now: () => number;

  constructor(metrics: CallMetrics, options: WorkerStateGaugeOptions = {}) {
    const second = options.secondOfMinute ?? 5 + Math.floor(Math.random() * 45);
    if (!Number.isInteger(second) || second < 0 || second > 59) {
      throw new RangeError(`secondOfMinute must be an integer from 0 to 59, got ${second}`);
    }
    this.#metrics = metrics;
    this.#secondOfMinute = second;
    this.#now = options.now ?? Date.now;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Records the state; the next minute's sample reports it. */
  set(state: WorkerState): void {
    this.#state = state;
  }

  /** Starts the once-a-minute samples. Idempotent. */
  start(): void {
    if (this.#timer === undefined) this.#schedule();
  }

  /** Stops the samples. Idempotent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Milliseconds from `nowMs` to the next sending time (the configured second of the next due minute). */
  delayUntilNextSample(nowMs: number): number {
    const minuteStart = Math.floor(nowMs / 60_000) * 60_000;
    const thisMinute = minuteStart + this.#secondOfMinute * 1000;
    return (thisMinute > nowMs ? thisMinute : thisMinute + 60_000) - nowMs;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#metrics.workerState(this.#state);
      this.#schedule();
    }, this.delayUntilNextSample(this.#now()));
    this.#timer.unref();
  }
}
