/**
 * The CloudWatch metrics a worker publishes (as Embedded Metric Format lines on stdout) and the CDK construct reads
 * (dashboard, alarms, scaling). One list, so both sides agree on names, units and dimensions.
 *
 * Dimensions are of low cardinality only: the deployment's name, and for failures the error code. Never a callId, a
 * worker id or a phone number.
 */

/** Default CloudWatch namespace of Roomline's metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'Roomline';

/** Dimension names. */
export const METRIC_DIMENSIONS = {
  /** Which Roomline deployment (e.g. the stack name): lets several deployments share one account and namespace. */
  deployment: 'Deployment',
  /** Error code of a failed call (one of contracts/errors.ts ERROR_CODES). */
  reason: 'Reason',
} as const;

/** CloudWatch units used by Roomline's metrics (a subset of what EMF accepts). */
export const METRIC_UNITS = {
  count: 'Count',
  milliseconds: 'Milliseconds',
  seconds: 'Seconds',
  percent: 'Percent',
} as const;
export type MetricUnit = (typeof METRIC_UNITS)[keyof typeof METRIC_UNITS];

/** Every metric, with its unit. */
export const METRICS = {
  /** A worker claimed a call (one per call attempt). */
  callsStarted: { name: 'CallsStarted', unit: METRIC_UNITS.count },
  /** The SIP peer answered. */
  callsConnected: { name: 'CallsConnected', unit: METRIC_UNITS.count },
  /** A call ended FAILED; also published per `Reason`. */
  callsFailed: { name: 'CallsFailed', unit: METRIC_UNITS.count },
  /** A call ended ENDED (after being connected). */
  callsEnded: { name: 'CallsEnded', unit: METRIC_UNITS.count },
  /** Milliseconds from the request being enqueued (the call record's enqueue time) to the SIP answer. */
  setupTime: { name: 'SetupTime', unit: METRIC_UNITS.milliseconds },
  /** Seconds from the SIP answer to the end of the call. */
  callDuration: { name: 'CallDuration', unit: METRIC_UNITS.seconds },
  /** Audio packet loss received from the SIP peer, percent. */
  sipAudioLoss: { name: 'SipAudioLoss', unit: METRIC_UNITS.percent },
  /** Audio jitter received from the SIP peer, milliseconds. */
  sipAudioJitter: { name: 'SipAudioJitter', unit: METRIC_UNITS.milliseconds },
  /** Concealed audio samples received from the SIP peer, percent. */
  sipAudioConcealment: { name: 'SipAudioConcealment', unit: METRIC_UNITS.percent },
  /** Audio packet loss received from the room, percent. */
  roomAudioLoss: { name: 'RoomAudioLoss', unit: METRIC_UNITS.percent },
  /** Audio jitter received from the room, milliseconds. */
  roomAudioJitter: { name: 'RoomAudioJitter', unit: METRIC_UNITS.milliseconds },
  /** 1 from each worker that waits for a call, once per wall-clock minute: the Sum per minute is the idle pool. */
  idleWorkers: { name: 'IdleWorkers', unit: METRIC_UNITS.count },
  /** 1 from each worker in a call, once per wall-clock minute: the Sum per minute is the number of busy workers. */
  busyWorkers: { name: 'BusyWorkers', unit: METRIC_UNITS.count },
} as const;
export type MetricKey = keyof typeof METRICS;
