import type { MeasuredCommit } from './commit.js';
import type { SetupStepMedian } from '../phases/setup-steps.js';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { assertNever } from '../../contracts/errors.js';
import type { BenchSeries } from '../plots/series.js';

/**
 * The benchmark's results and their Markdown table: each figure for Roomline and for the direct-call baseline (a
 * browser page calling the same phone through the Janus SIP plugin, no room, no bridge, same run), their ratio, and
 * the aim it races towards. A figure that was not measured carries the reason, and renders as "n/a (reason)", never as
 * a number.
 */

export const BENCH_MODES = ['quick', 'full'] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

/** The machine a run measured. */
export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical CPUs available to the process. */
  readonly cores: number;
  readonly memoryBytes: number;
  /** e.g. `Linux 6.1.0-28-amd64` */
  readonly kernel: string;
  /** e.g. `Debian GNU/Linux 12 (bookworm)`; undefined when /etc/os-release is absent. */
  readonly distribution: string | undefined;
  /** e.g. `v22.12.0` */
  readonly node: string;
  /** Chromium's version string, as the browser reports it. */
  readonly chromium: string;
  /**
   * The machine's load average (1, 5 and 15 minutes, as `uptime` shows it) when the run started and when it ended:
   * other work on the machine moves every figure, which is why each is compared with the direct call of the same run.
   */
  readonly load?: { readonly atStart: readonly number[]; readonly atEnd: readonly number[] };
}

/** A measured value, or why there is none. */
export type Measured =
  | { readonly kind: 'value'; readonly value: number; /** How many calls or samples it comes from. */ readonly n?: number }
  | { readonly kind: 'missing'; readonly reason: string };

/** What the benchmark aims at for a figure: on Roomline's value, or on what Roomline adds to the direct call. */
export type Aim =
  | { readonly kind: 'at-most'; readonly value: number; readonly of: 'roomline' | 'added' }
  | { readonly kind: 'at-least'; readonly value: number; readonly of: 'roomline' | 'added' };

export const FIGURE_GROUPS = {
  setup: 'Setup time',
  delay: 'Mouth-to-ear delay',
  cost: 'Cost per call',
  density: 'Density',
  continuity: 'Audio continuity',
  janus: 'Janus per call (SIP plugin and, for Roomline, the room)',
  reencode: 'Re-encoding (ROOMLINE_ENCODED_FORWARDING=off: every frame decoded and encoded again, as while several people speak)',
  sparticuz: 'The @sparticuz/chromium build (ROOMLINE_CHROMIUM=sparticuz; the direct call runs the system build)',
} as const;
export type FigureGroup = keyof typeof FIGURE_GROUPS;

export const UNITS = {
  ms: 'ms',
  cores: 'cores',
  mb: 'MB',
  usd: 'USD',
  calls: 'calls',
  percent: '%',
} as const;
export type Unit = keyof typeof UNITS;

export interface FigureSpec {
  readonly group: FigureGroup;
  readonly label: string;
  readonly unit: Unit;
  readonly aim?: Aim;
}

export const WORKER_STARTS = {
  warm: 'warm (browser and page ready before the request)',
  cold: 'cold (browser launched on the request)',
} as const;
export type WorkerStart = keyof typeof WORKER_STARTS;

/** The spans of setup time; for the direct call, "in the room" is at the caller page. */
export const SETUP_SPANS = {
  invite: 'enqueue → INVITE at the phone',
  answer: 'enqueue → answer',
  audioAtPhone: 'enqueue → first audio at the phone',
  audioInRoom: 'enqueue → first audio in the room',
  answerToAudioAtPhone: 'answer → first audio at the phone',
  answerToAudioInRoom: 'answer → first audio in the room',
} as const;
export type SetupSpan = keyof typeof SETUP_SPANS;
export type SetupFigureId = `setup.${WorkerStart}.${SetupSpan}.${'p50' | 'p95'}`;

const OTHER_FIGURES = {
  'delay.roomToPhone': { group: 'delay', label: 'room → phone, median, forwarded', unit: 'ms', aim: { kind: 'at-most', value: 20, of: 'added' } },
  'delay.phoneToRoom': { group: 'delay', label: 'phone → room, median, forwarded', unit: 'ms', aim: { kind: 'at-most', value: 20, of: 'added' } },
  'delay.calibrationRecovered': { group: 'delay', label: 'calibration: known one-way delay recovered by the method', unit: 'ms' },
  'cost.cores': { group: 'cost', label: 'CPU cores per audio call, forwarded', unit: 'cores', aim: { kind: 'at-most', value: 0.08, of: 'roomline' } },
  'cost.pssMb': { group: 'cost', label: 'PSS per audio call (all processes)', unit: 'mb', aim: { kind: 'at-most', value: 250, of: 'roomline' } },
  'cost.fargateUsdPerCallMinute': { group: 'cost', label: 'Fargate price per call-minute', unit: 'usd' },
  'density.callsPerVcpu': {
    group: 'density',
    label: 'concurrent forwarded audio calls per vCPU with loss < 1% and concealment < 2% on every call, the bridge in a CPU-quota cgroup',
    unit: 'calls',
    aim: { kind: 'at-least', value: 10, of: 'roomline' },
  },
  'density.reencodeCallsPerVcpu': {
    group: 'density',
    label: 'the same, re-encoding (ROOMLINE_ENCODED_FORWARDING=off)',
    unit: 'calls',
  },
  'density.sparticuzCallsPerVcpu': {
    group: 'density',
    label: 'the same, forwarded, on @sparticuz/chromium',
    unit: 'calls',
  },
  'janus.coresPerCall': { group: 'janus', label: 'Janus CPU per call', unit: 'cores' },
  'janus.pssMbPerCall': { group: 'janus', label: 'Janus PSS per call', unit: 'mb' },
  'continuity.sipConcealedPercent': { group: 'continuity', label: 'concealed audio, SIP leg', unit: 'percent' },
  'continuity.sipJitterBufferMs': { group: 'continuity', label: 'jitter-buffer delay, SIP leg', unit: 'ms' },
  'continuity.roomConcealedPercent': { group: 'continuity', label: 'concealed audio, room leg', unit: 'percent' },
  'continuity.roomJitterBufferMs': { group: 'continuity', label: 'jitter-buffer delay, room leg', unit: 'ms' },
  'reencode.cores': { group: 'reencode', label: 're-encoding: CPU cores per audio call', unit: 'cores', aim: { kind: 'at-most', value: 0.15, of: 'roomline' } },
  'reencode.pssMb': { group: 'reencode', label: 're-encoding: PSS per audio call (all processes)', unit: 'mb' },
  'reencode.roomToPhone': { group: 'reencode', label: 're-encoding: mouth-to-ear delay room → phone, median', unit: 'ms', aim: { kind: 'at-most', value: 60, of: 'added' } },
  'reencode.phoneToRoom': { group: 'reencode', label: 're-encoding: mouth-to-ear delay phone → room, median', unit: 'ms', aim: { kind: 'at-most', value: 60, of: 'added' } },
  'sparticuz.cores': { group: 'sparticuz', label: 'sparticuz: CPU cores per audio call, forwarded', unit: 'cores', aim: { kind: 'at-most', value: 0.08, of: 'roomline' } },
  'sparticuz.pssMb': { group: 'sparticuz', label: 'sparticuz: PSS per audio call (all processes)', unit: 'mb', aim: { kind: 'at-most', value: 250, of: 'roomline' } },
  'sparticuz.roomToPhone': { group: 'sparticuz', label: 'sparticuz: mouth-to-ear delay room → phone, median, forwarded', unit: 'ms', aim: { kind: 'at-most', value: 20, of: 'added' } },
  'sparticuz.phoneToRoom': { group: 'sparticuz', label: 'sparticuz: mouth-to-ear delay phone → room, median, forwarded', unit: 'ms', aim: { kind: 'at-most', value: 20, of: 'added' } },
} as const satisfies Readonly<Record<string, FigureSpec>>;

export type FigureId = SetupFigureId | keyof typeof OTHER_FIGURES;

/** Every figure of the benchmark, in table order. */
export const FIGURES: Readonly<Record<FigureId, FigureSpec>> = { ...setupFigures(), ...OTHER_FIGURES };

/** The two measurements of one figure. */
export interface FigureValues {
  readonly roomline: Measured;
  readonly baseline: Measured;
  /** Shown after the figure's label, e.g. the Fargate task size a price is for. */
  readonly note?: string;
}

/** One run of the benchmark, as written to `bench/results/latest.json`. */
export interface BenchResults {
  readonly version: 1;
  /** When the run started, ISO 8601. */
  readonly date: string;
  readonly mode: BenchMode;
  readonly machine: MachineInfo;
  readonly figures: Readonly<Record<FigureId, FigureValues>>;
  /** Lines printed under the table: what bounds a figure that misses its aim, what would move it. */
  readonly notes?: readonly string[];
  /** The samples behind the figures, for the plots (absent in results written before they were kept). */
  readonly series?: BenchSeries;
  /** The commit the run measured (bench/lib/commit.ts). */
  readonly commit?: MeasuredCommit;
  /** The warm setup's steps, median per step, beside the direct call's equivalents (bench/phases/setup-steps.ts). */
  readonly setupSteps?: readonly SetupStepMedian[];
}

/** A figure as the table shows it, with what follows from its two values. */
export interface ReportRow {
  readonly id: FigureId;
  readonly spec: FigureSpec;
  readonly values: FigureValues;
  /** Roomline ÷ direct call. */
  readonly ratio: Measured;
  /** Roomline − direct call. */
  readonly added: Measured;
  /** Whether the aim is met; undefined when the figure has no aim or its values are missing. */
  readonly aimMet: boolean | undefined;
}

/** A measured value (`n`: how many calls or samples it comes from). */
export function measured(value: number, n?: number): Measured {
  return n === undefined ? { kind: 'value', value } : { kind: 'value', value, n };
}

/** No value, and why (e.g. "no call reached the phone", "not run in quick mode"). */
export function missing(reason: string): Measured {
  return { kind: 'missing', reason };
}

/** `figures` with every figure it lacks set as missing on both sides for `reason`. */
export function completeFigures(
  figures: Partial<Record<FigureId, FigureValues>>,
  reason: string,
): Readonly<Record<FigureId, FigureValues>> {
  const complete = {} as Record<FigureId, FigureValues>;
  for (const id of Object.keys(FIGURES) as FigureId[]) {
    complete[id] = figures[id] ?? { roomline: missing(reason), baseline: missing(reason) };
  }
  return complete;
}

/** Each figure of `results` in table order, with its ratio, what Roomline adds, and whether the aim is met. */
export function reportRows(results: BenchResults): readonly ReportRow[] {
  return (Object.keys(FIGURES) as FigureId[]).map((id) => {
    const spec = FIGURES[id];
    const values = results.figures[id] ?? { roomline: missing('not in the results'), baseline: missing('not in the results') };
    const roomline = finite(values.roomline);
    const baseline = finite(values.baseline);
    const both = roomline.kind === 'value' && baseline.kind === 'value';
    const ratio: Measured = !both
      ? missing(NEEDS_BOTH)
      : baseline.value === 0
        ? missing('direct call is 0')
        : measured(roomline.value / baseline.value);
    const added: Measured = both ? measured(roomline.value - baseline.value) : missing(NEEDS_BOTH);
    return { id, spec, values: { ...values, roomline, baseline }, ratio, added, aimMet: aimMet(spec.aim, roomline, added) };
  });
}

/** The results as a Markdown section: a heading, the machine, one table of every figure, and the notes. */
export function renderMarkdown(results: BenchResults): string {
  const { machine } = results;
  const lines = [
    `### Roomline benchmark: ${results.mode} run, ${formatDate(results.date)}`,
    '',
    `Machine: ${cell(machine.cpuModel)}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB memory; ` +
      `${[machine.distribution, machine.kernel].filter((s) => s !== undefined).map(cell).join(', ')}; ` +
      `Node ${cell(machine.node)}; Chromium ${cell(machine.chromium)}`,
    ...(machine.load === undefined
      ? []
      : [
          '',
          `Load average (1, 5, 15 min): ${formatLoad(machine.load.atStart)} at the start, ${formatLoad(machine.load.atEnd)} ` +
            'at the end',
        ]),
    '',
    '| Figure | Roomline | Direct call | Ratio | Aim | Met |',
    '| --- | ---: | ---: | ---: | --- | --- |',
  ];
  let group: FigureGroup | undefined;
  for (const row of reportRows(results)) {
    if (row.spec.group !== group) {
      group = row.spec.group;
      lines.push(`| **${FIGURE_GROUPS[group]}** | | | | | |`);
    }
    const label = row.values.note === undefined ? row.spec.label : `${row.spec.label} (${row.values.note})`;
    lines.push(
      `| ${cell(label)} | ${formatMeasured(row.values.roomline, row.spec.unit)} | ${formatMeasured(row.values.baseline, row.spec.unit)} | ` +
        `${formatRatio(row.ratio)} | ${formatAim(row.spec)} | ${formatMet(row)} |`,
    );
  }
  lines.push(
    '',
    'Roomline: the default configuration (encoded forwarding on, Debian\'s Chromium) unless a row says otherwise. ' +
      'Direct call: a browser page calls the same phone through the Janus SIP plugin, with no room and no bridge, in the ' +
      'same run; its "room" is the caller page.',
  );
  for (const note of results.notes ?? []) lines.push('', note);
  return `${lines.join('\n')}\n`;
}

/** `results` as written to `bench/results/latest.json`: the results with each figure's ratio and aim outcome. */
export function resultsJson(results: BenchResults): string {
  const rows = Object.fromEntries(
    reportRows(results).map((row) => [row.id, { ratio: row.ratio, added: row.added, aimMet: row.aimMet ?? null }]),
  );
  return `${JSON.stringify({ ...results, derived: rows }, null, 2)}\n`;
}

/**
 * The machine this process runs on: CPU model (from /proc/cpuinfo), logical CPUs, memory, kernel, distribution, Node.
 *
 * @param chromium the browser's version string (e.g. `browser.version()` in puppeteer), passed in so this module needs
 * no browser.
 * @param loadAtStart `os.loadavg()` when the run started; with it, the load at the start and now is recorded.
 */
export async function machineInfo(chromium: string, loadAtStart?: readonly number[]): Promise<MachineInfo> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return {
    cpuModel: cpuModelFrom(cpuinfo) ?? os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    distribution: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1],
    node: process.version,
    chromium,
    ...(loadAtStart === undefined ? {} : { load: { atStart: loadAtStart, atEnd: os.loadavg() } }),
  };
}

/** The CPU model named in /proc/cpuinfo text (`model name` on x86, `Model` or `Hardware` on some ARM boards). */
export function cpuModelFrom(cpuinfo: string): string | undefined {
  for (const key of ['model name', 'Model', 'Hardware']) {
    const value = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo)?.[1]?.trim();
    if (value !== undefined && value !== '') return value.replace(/\s+/g, ' ');
  }
  return undefined;
}

const NEEDS_BOTH = 'needs both values';

function setupFigures(): Record<SetupFigureId, FigureSpec> {
  const figures = {} as Record<SetupFigureId, FigureSpec>;
  for (const start of Object.keys(WORKER_STARTS) as WorkerStart[]) {
    for (const span of Object.keys(SETUP_SPANS) as SetupSpan[]) {
      for (const stat of ['p50', 'p95'] as const) {
        figures[`setup.${start}.${span}.${stat}`] = {
          group: 'setup',
          label: `${start}: ${SETUP_SPANS[span]}, ${stat}`,
          unit: 'ms',
          ...setupAim(start, span, stat),
        };
      }
    }
  }
  return figures;
}

function setupAim(start: WorkerStart, span: SetupSpan, stat: 'p50' | 'p95'): { aim?: Aim } {
  if (start !== 'warm') return {};
  if (span === 'invite') return { aim: { kind: 'at-most', value: stat === 'p50' ? 150 : 250, of: 'roomline' } };
  if (span === 'answerToAudioAtPhone' || span === 'answerToAudioInRoom') return { aim: { kind: 'at-most', value: 1000, of: 'roomline' } };
  return {};
}

function finite(value: Measured): Measured {
  return value.kind === 'value' && !Number.isFinite(value.value) ? missing(`not a finite number (${value.value})`) : value;
}

function aimMet(aim: Aim | undefined, roomline: Measured, added: Measured): boolean | undefined {
  if (aim === undefined) return undefined;
  const subject = aim.of === 'roomline' ? roomline : added;
  if (subject.kind === 'missing') return undefined;
  return aim.kind === 'at-most' ? subject.value <= aim.value : subject.value >= aim.value;
}

function formatNumber(value: number, unit: Unit): string {
  switch (unit) {
    case 'ms':
      return `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)} ms`;
    case 'cores':
      return `${value.toFixed(3)} cores`;
    case 'mb':
      return `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)} MB`;
    case 'usd':
      return `$${value.toPrecision(3)}`;
    case 'calls':
      return `${value.toFixed(0)} calls`;
    case 'percent':
      return `${value.toFixed(2)}%`;
    default:
      return assertNever(unit, 'unit');
  }
}

function formatMeasured(value: Measured, unit: Unit): string {
  if (value.kind === 'missing') return `n/a (${cell(value.reason)})`;
  return value.n === undefined ? formatNumber(value.value, unit) : `${formatNumber(value.value, unit)} (n=${value.n})`;
}

function formatRatio(ratio: Measured): string {
  if (ratio.kind === 'value') return `${ratio.value.toFixed(2)}×`;
  // the reason of a missing value is in its own cell already
  return ratio.reason === NEEDS_BOTH ? 'n/a' : `n/a (${cell(ratio.reason)})`;
}

function formatAim(spec: FigureSpec): string {
  if (spec.aim === undefined) return '';
  const sign = spec.aim.kind === 'at-most' ? '≤' : '≥';
  return `${sign} ${formatNumber(spec.aim.value, spec.unit)}${spec.aim.of === 'added' ? ' added' : ''}`;
}

function formatMet(row: ReportRow): string {
  if (row.spec.aim === undefined) return '';
  if (row.aimMet === undefined) return 'n/a';
  const verdict = row.aimMet ? 'yes' : 'no';
  if (row.spec.aim.of !== 'added' || row.added.kind === 'missing') return verdict;
  const sign = row.added.value >= 0 ? '+' : '−';
  return `${verdict} (${sign}${formatNumber(Math.abs(row.added.value), row.spec.unit)})`;
}

function formatLoad(load: readonly number[]): string {
  return load.map((v) => v.toFixed(2)).join(', ');
}

function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? cell(iso) : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Text made safe for one Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}
