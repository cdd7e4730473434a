import type { DelayEstimate } from '../lib/signals.js';
import type { UsageReport } from '../lib/usage-meter.js';

/**
 * The samples behind a run's figures, kept in its result JSON (`series`) so its plots can be drawn, and drawn again,
 * from the file alone: each setup call's times, each delay click's delay, each process's CPU over the cost call, and
 * each density call's loss and concealment. Filled in by the phases as they measure, through a `SeriesRecorder`.
 */

/** The two paths a figure compares, as the series name them. */
export const SERIES_PATHS = { roomline: 'Roomline', direct: 'direct call' } as const;
export type SeriesPath = keyof typeof SERIES_PATHS;

/** One setup call: milliseconds from the request (enqueue, or the direct page's call) to each event it reached. */
export interface SetupSample {
  readonly invite?: number;
  readonly answer?: number;
  readonly audioAtPhone?: number;
  readonly audioInRoom?: number;
}

/** The directions a delay call measures; `calibration` is room → phone again through a known added delay. */
export const DELAY_TRAINS = {
  roomToPhone: 'room → phone',
  phoneToRoom: 'phone → room',
  calibration: 'calibration clicks, less the known delay',
} as const;
export type DelayTrain = keyof typeof DELAY_TRAINS;

/** One click found: its index in its train and its one-way delay in ms. */
export interface ClickPoint {
  readonly click: number;
  readonly delayMs: number;
}

/** One delay call's clicks, each train's found clicks in order, and the calibration's known delay. */
export interface DelaySeries {
  readonly knownDelayMs: number;
  readonly trains: Readonly<Partial<Record<DelayTrain, readonly ClickPoint[]>>>;
}

/** One process's CPU over the cost call: [seconds from the start, cores] per sampling period. */
export interface CpuProcessSeries {
  /** e.g. `chromium: renderer` (with the pid when two processes share a name). */
  readonly process: string;
  readonly points: readonly (readonly [number, number])[];
}

/** One leg's received audio over a density level's steady window. */
export interface LegQualityPoint {
  /** Packets lost, as a percentage of those sent. */
  readonly lossPercent: number;
  /** Samples concealed, as a percentage of those played out. */
  readonly concealedPercent: number;
}

/** One call of a density level: the quality of each leg it received audio on (a direct call has the SIP leg only). */
export interface DensityCallPoint {
  /** `forwarded`, `re-encoding`, `@sparticuz/chromium` for Roomline; `direct call` for the direct call. */
  readonly variant: string;
  readonly calls: number;
  readonly sip?: LegQualityPoint;
  readonly room?: LegQualityPoint;
}

/** Everything a run's plots are drawn from; each part is absent when its phase did not run. */
export interface BenchSeries {
  readonly setup?: Readonly<Partial<Record<'warm' | 'cold', Readonly<Record<SeriesPath, readonly SetupSample[]>>>>>;
  readonly delay?: Readonly<Partial<Record<SeriesPath, DelaySeries>>>;
  readonly cpu?: Readonly<Partial<Record<SeriesPath, readonly CpuProcessSeries[]>>>;
  readonly density?: readonly DensityCallPoint[];
}

/** The delays of one call, as the delay phase measures them (see `DelayCallResult`). */
export interface MeasuredDelays {
  readonly roomToPhone: DelayEstimate | undefined;
  readonly phoneToRoom: DelayEstimate | undefined;
  readonly calibrated: DelayEstimate | undefined;
}

/** Collects a run's series as its phases measure; `toJson` is what the result file keeps. */
export class SeriesRecorder {
  private readonly series: {
    setup: Partial<Record<'warm' | 'cold', Record<SeriesPath, readonly SetupSample[]>>>;
    delay: Partial<Record<SeriesPath, DelaySeries>>;
    cpu: Partial<Record<SeriesPath, readonly CpuProcessSeries[]>>;
    density: DensityCallPoint[];
  } = { setup: {}, delay: {}, cpu: {}, density: [] };

  /** Every setup call of the warm or the cold calls, on each path. */
  setup(start: 'warm' | 'cold', samples: Readonly<Record<SeriesPath, readonly SetupSample[]>>): void {
    this.series.setup[start] = { roomline: [...samples.roomline], direct: [...samples.direct] };
  }

  /** The delay call of each path, with the calibration's `knownDelayMs`. */
  delays(calls: Readonly<Record<SeriesPath, MeasuredDelays>>, knownDelayMs: number): void {
    for (const path of Object.keys(SERIES_PATHS) as SeriesPath[]) this.series.delay[path] = delaySeries(calls[path], knownDelayMs);
  }

  /** Each process's CPU over the cost call of each path (a path whose process was not found is left out). */
  cpu(usage: Readonly<Record<SeriesPath, UsageReport | undefined>>): void {
    for (const path of Object.keys(SERIES_PATHS) as SeriesPath[]) {
      const report = usage[path];
      if (report !== undefined) this.series.cpu[path] = cpuSeries(report);
    }
  }

  /** The calls of one density level. */
  density(points: readonly DensityCallPoint[]): void {
    this.series.density.push(...points);
  }

  toJson(): BenchSeries {
    const { setup, delay, cpu, density } = this.series;
    const some = (o: object) => Object.keys(o).length > 0;
    return {
      ...(some(setup) ? { setup } : {}),
      ...(some(delay) ? { delay } : {}),
      ...(some(cpu) ? { cpu } : {}),
      ...(density.length > 0 ? { density } : {}),
    };
  }
}

/** A delay call's found clicks per train; the calibration's delays less the known delay, so they lie on room → phone. */
export function delaySeries(call: MeasuredDelays, knownDelayMs: number): DelaySeries {
  const points = (estimate: DelayEstimate | undefined, lessMs = 0): ClickPoint[] =>
    (estimate?.clicks ?? []).flatMap((c) => (c.delayS === undefined ? [] : [{ click: c.index, delayMs: round(c.delayS * 1000 - lessMs) }]));
  const trains: Partial<Record<DelayTrain, readonly ClickPoint[]>> = {};
  if (call.roomToPhone !== undefined) trains.roomToPhone = points(call.roomToPhone);
  if (call.phoneToRoom !== undefined) trains.phoneToRoom = points(call.phoneToRoom);
  if (call.calibrated !== undefined) trains.calibration = points(call.calibrated, knownDelayMs);
  return { knownDelayMs, trains };
}

/** The timeline of a usage report as named series, processes without a point left out. */
export function cpuSeries(report: UsageReport): CpuProcessSeries[] {
  const name = (p: { comm: string; role: string }) => (p.role === '' || p.role === p.comm ? p.comm : `${p.comm}: ${p.role}`);
  const lines = report.timeline.filter((p) => p.points.length > 0);
  const counts = new Map<string, number>();
  for (const p of lines) counts.set(name(p), (counts.get(name(p)) ?? 0) + 1);
  return lines.map((p) => ({
    process: counts.get(name(p))! > 1 ? `${name(p)} (${p.pid})` : name(p),
    points: p.points.map(([t, cores]) => [round(t, 2), round(cores, 4)] as const),
  }));
}

/** Loss and concealment of a leg from the counters' growth over a window, as percentages. */
export function legQuality(growth: { packets: number; lost: number; samples: number; concealed: number }): LegQualityPoint {
  const { packets, lost, samples, concealed } = growth;
  return {
    lossPercent: round(packets + lost > 0 ? (100 * lost) / (packets + lost) : 100, 3),
    concealedPercent: round(samples > 0 ? (100 * concealed) / samples : 100, 3),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
