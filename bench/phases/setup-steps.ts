import type { SetupTrace } from '../../contracts/setup-trace.js';
import { summarize } from '../lib/stats.js';

/**
 * The warm setup calls' steps (each call record's setup trace, contracts/setup-trace.ts), median per step, beside what
 * the direct call has of the same step: a regression shows which step grew.
 */

/** What the direct call measures of a step, as the setup phase measures it at the phone. */
export type DirectEquivalent = 'invite' | 'answer' | 'audioAtPhone' | 'audioInRoom';

/** The steps that have a direct-call equivalent, and which. */
const EQUIVALENTS: Readonly<Partial<Record<string, DirectEquivalent>>> = {
  'phone.invite': 'invite',
  'sip.invite': 'invite',
  'sip.answered': 'answer',
  'media.sip-audio-out': 'audioAtPhone',
  'media.sip-audio-in': 'audioInRoom',
};

/** One step over the calls that had it. */
export interface SetupStepMedian {
  readonly step: string;
  /** Calls whose trace had the step. */
  readonly n: number;
  /** Median start, in ms from the enqueue. */
  readonly startMs: number;
  /** Median length, in ms; absent for an event. */
  readonly ms?: number;
  /** The direct call's median for the same moment, in ms from its request. */
  readonly direct?: { readonly what: DirectEquivalent; readonly ms: number; readonly n: number };
}

/**
 * The median of each step over `traces`, in the order of the path (by median start), with the INVITE as the phone saw
 * it (`phone.invite`, ms from the enqueue) and the direct call's equivalents from `direct`.
 */
export function setupStepMedians(
  traces: readonly SetupTrace[],
  phoneInvites: readonly number[],
  direct: Readonly<Record<DirectEquivalent, readonly number[]>>,
): SetupStepMedian[] {
  const byStep = new Map<string, { starts: number[]; lengths: number[] }>();
  const add = (step: string, at: number, ms?: number) => {
    const entry = byStep.get(step) ?? { starts: [], lengths: [] };
    entry.starts.push(at);
    if (ms !== undefined) entry.lengths.push(ms);
    byStep.set(step, entry);
  };
  for (const trace of traces) for (const step of trace.steps) add(step.step, step.at, step.ms);
  for (const at of phoneInvites) add('phone.invite', at);
  const rows = [...byStep].map(([step, { starts, lengths }]): SetupStepMedian => {
    const what = EQUIVALENTS[step];
    const directValues = what === undefined ? [] : direct[what];
    return {
      step,
      n: starts.length,
      startMs: round(summarize(starts).p50),
      ...(lengths.length === 0 ? {} : { ms: round(summarize(lengths).p50) }),
      ...(what === undefined || directValues.length === 0
        ? {}
        : { direct: { what, ms: round(summarize(directValues).p50), n: directValues.length } }),
    };
  });
  return rows.sort((a, b) => a.startMs - b.startMs);
}

/** The medians as a Markdown table. */
export function renderSetupSteps(rows: readonly SetupStepMedian[]): string {
  const lines = [
    '| setup step (warm, median) | calls | starts at (ms from enqueue) | takes (ms) | direct call, same moment (ms from its request) |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.step} | ${r.n} | ${r.startMs.toFixed(1)} | ${r.ms === undefined ? '' : r.ms.toFixed(1)} | ` +
        `${r.direct === undefined ? '' : `${r.direct.ms.toFixed(1)} (${r.direct.what}, n=${r.direct.n})`} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
