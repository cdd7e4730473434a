import type { TopLevelSpec } from 'vega-lite';
import { DELAY_TRAINS, SERIES_PATHS, type BenchSeries, type DelayTrain, type SeriesPath, type SetupSample } from './series.js';

/**
 * The benchmark's plots as Vega-Lite specs, each built from a run's series alone (data inlined): setup time, delay per
 * click, CPU over a call per process, quality against the number of calls. A plot whose series the run did not keep
 * is left out, with why.
 */

export const PLOTS = {
  'setup-time': 'Setup time: enqueue → INVITE at the phone, every call',
  'delay-per-click': 'Mouth-to-ear delay of each click, with the calibration',
  'cpu-per-process': 'CPU over the steady cost call, per process',
  'density-quality': 'Quality of each call against the number of calls (density levels)',
} as const;
export type PlotId = keyof typeof PLOTS;

/** A plot's spec, or why it cannot be drawn from the run. */
export type PlotSpec =
  | { readonly kind: 'spec'; readonly id: PlotId; readonly spec: TopLevelSpec }
  | { readonly kind: 'missing'; readonly id: PlotId; readonly reason: string };

/** What names the run under each plot: its date, mode and machine. */
export interface PlotCaption {
  readonly run: string;
}

/** Density thresholds a call must meet (see the density phase). */
const LIMITS = { lossPercent: 1, concealedPercent: 2 } as const;
const WIDTH = 300;
const HEIGHT = 200;
const PATH_DOMAIN = Object.values(SERIES_PATHS);

/** Every plot of a run, in order. */
export function plotSpecs(series: BenchSeries | undefined, caption: PlotCaption): readonly PlotSpec[] {
  const s = series ?? {};
  return [setupTimeSpec(s, caption), delaySpec(s, caption), cpuSpec(s, caption), densitySpec(s, caption)];
}

/** Empirical distribution (ECDF) of enqueue → INVITE for each path, warm and cold side by side. */
export function setupTimeSpec(series: BenchSeries, caption: PlotCaption): PlotSpec {
  const id = 'setup-time';
  const rows: { start: string; path: string; ms: number; share: number }[] = [];
  for (const start of ['warm', 'cold'] as const) {
    const paths = series.setup?.[start];
    if (paths === undefined) continue;
    for (const path of Object.keys(SERIES_PATHS) as SeriesPath[]) {
      const values = paths[path].map((s: SetupSample) => s.invite).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
      values.forEach((ms, i) => rows.push({ start: `${start} worker`, path: SERIES_PATHS[path], ms, share: (i + 1) / values.length }));
    }
  }
  if (rows.length === 0) return { kind: 'missing', id, reason: 'the result keeps no setup calls' };
  return {
    kind: 'spec',
    id,
    spec: {
      ...frame(id, caption),
      data: { values: rows },
      facet: { column: { field: 'start', type: 'nominal', title: null, sort: ['warm worker', 'cold worker'] } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: WIDTH,
        height: HEIGHT,
        layer: [
          { mark: { type: 'line', interpolate: 'step-after' } },
          { mark: { type: 'point', filled: true, size: 20 } },
        ],
        encoding: {
          x: { field: 'ms', type: 'quantitative', title: 'enqueue → INVITE at the phone (ms)', scale: { zero: true } },
          y: { field: 'share', type: 'quantitative', title: 'share of calls at or below', scale: { domain: [0, 1] } },
          color: pathColor(),
        },
      },
    },
  };
}

/** Each found click's one-way delay in call order, per direction, one panel per path. */
export function delaySpec(series: BenchSeries, caption: PlotCaption): PlotSpec {
  const id = 'delay-per-click';
  const rows: { path: string; train: string; click: number; delayMs: number }[] = [];
  let known: number | undefined;
  for (const path of Object.keys(SERIES_PATHS) as SeriesPath[]) {
    const call = series.delay?.[path];
    if (call === undefined) continue;
    known = call.knownDelayMs;
    for (const train of Object.keys(DELAY_TRAINS) as DelayTrain[]) {
      for (const p of call.trains[train] ?? []) rows.push({ path: SERIES_PATHS[path], train: DELAY_TRAINS[train], ...p });
    }
  }
  if (rows.length === 0) return { kind: 'missing', id, reason: 'the result keeps no delay clicks' };
  return {
    ...specOf(id),
    spec: {
      ...frame(id, caption, `calibration: clicks sent through a known ${known ?? '?'} ms delay, shown less that delay (on room → phone when the method recovers it)`),
      data: { values: rows },
      facet: { column: { field: 'path', type: 'nominal', title: null, sort: PATH_DOMAIN } },
      spec: {
        width: WIDTH,
        height: HEIGHT,
        layer: [{ mark: { type: 'line', opacity: 0.6 } }, { mark: { type: 'point', filled: true, size: 18 } }],
        encoding: {
          x: { field: 'click', type: 'quantitative', title: 'click (1 s apart)' },
          y: { field: 'delayMs', type: 'quantitative', title: 'one-way delay (ms)' },
          color: { field: 'train', type: 'nominal', title: 'clicks', scale: { domain: Object.values(DELAY_TRAINS) } },
        },
      },
    },
  };
}

/** Each process's cores over the cost call, one panel per path. */
export function cpuSpec(series: BenchSeries, caption: PlotCaption): PlotSpec {
  const id = 'cpu-per-process';
  const rows: { path: string; process: string; s: number; cores: number }[] = [];
  for (const path of Object.keys(SERIES_PATHS) as SeriesPath[]) {
    for (const p of series.cpu?.[path] ?? []) {
      for (const [s, cores] of p.points) rows.push({ path: SERIES_PATHS[path], process: p.process, s, cores });
    }
  }
  if (rows.length === 0) return { kind: 'missing', id, reason: 'the result keeps no CPU timeline' };
  return {
    ...specOf(id),
    spec: {
      ...frame(id, caption, 'worker and its Chromium processes (Roomline), the direct page\'s Chromium (direct call); sampled every second'),
      data: { values: rows },
      facet: { column: { field: 'path', type: 'nominal', title: null, sort: PATH_DOMAIN } },
      spec: {
        width: WIDTH,
        height: HEIGHT,
        layer: [{ mark: { type: 'line' } }, { mark: { type: 'point', filled: true, size: 14 } }],
        encoding: {
          x: { field: 's', type: 'quantitative', title: 'seconds into the steady call' },
          y: { field: 'cores', type: 'quantitative', title: 'CPU (cores)' },
          color: { field: 'process', type: 'nominal', title: 'process' },
        },
      },
    },
  };
}

/** Each call's loss and concealment on each leg against the level's number of calls, with the pass limits. */
export function densitySpec(series: BenchSeries, caption: PlotCaption): PlotSpec {
  const id = 'density-quality';
  const rows: { series: string; calls: number; measure: string; percent: number; limit: number }[] = [];
  const measures = { lossPercent: 'packets lost (%)', concealedPercent: 'audio concealed (%)' } as const;
  for (const point of series.density ?? []) {
    for (const leg of ['sip', 'room'] as const) {
      const q = point[leg];
      if (q === undefined) continue;
      const name = point.variant === SERIES_PATHS.direct ? point.variant : `${point.variant}, ${leg} leg`;
      for (const m of Object.keys(measures) as (keyof typeof measures)[]) {
        rows.push({ series: name, calls: point.calls, measure: measures[m], percent: q[m], limit: LIMITS[m] });
      }
    }
  }
  if (rows.length === 0) return { kind: 'missing', id, reason: 'the result keeps no density calls' };
  return {
    ...specOf(id),
    spec: {
      ...frame(id, caption, `every call of each level held; dashed: the limit a call must stay under (loss ${LIMITS.lossPercent} %, concealment ${LIMITS.concealedPercent} %)`),
      data: { values: rows },
      facet: { column: { field: 'measure', type: 'nominal', title: null, sort: Object.values(measures) } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            mark: { type: 'line', opacity: 0.7 },
            encoding: {
              x: CALLS_AXIS,
              y: { field: 'percent', type: 'quantitative', aggregate: 'max', title: '% (line: the worst call)' },
              color: SERIES_COLOR,
            },
          },
          {
            mark: { type: 'point', filled: true, size: 24, opacity: 0.8 },
            encoding: { x: CALLS_AXIS, y: { field: 'percent', type: 'quantitative' }, color: SERIES_COLOR },
          },
          { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { field: 'limit', type: 'quantitative', aggregate: 'max' } } },
        ],
      },
    },
  };
}

const CALLS_AXIS = {
  field: 'calls',
  type: 'quantitative',
  title: 'concurrent calls in 1 vCPU',
  scale: { zero: false },
  axis: { tickMinStep: 1 },
} as const;
const SERIES_COLOR = { field: 'series', type: 'nominal', title: 'calls, leg' } as const;

function specOf(id: PlotId): { kind: 'spec'; id: PlotId } {
  return { kind: 'spec', id };
}

function pathColor() {
  return { field: 'path', type: 'nominal', title: 'path', scale: { domain: PATH_DOMAIN } } as const;
}

/** Title (the plot's name, the run, and what to know to read it) and a white background for the SVG. */
function frame(id: PlotId, caption: PlotCaption, note?: string) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: { text: PLOTS[id], subtitle: note === undefined ? caption.run : [note, caption.run], anchor: 'start' },
    config: { font: 'sans-serif', legend: { labelLimit: 0 } },
  } as const;
}
