import { FIGURES, type BenchResults, type FigureId, type FigureValues } from './report.js';

/** One figure of two results, as ratios of Roomline to the direct call (so that runs on different machines compare). */
export interface FigureChange {
  readonly id: FigureId;
  readonly label: string;
  /** Roomline ÷ direct call in the earlier result and in this one; undefined where either side was not measured. */
  readonly before: number | undefined;
  readonly now: number | undefined;
  /** now ÷ before: above 1, Roomline moved away from the direct call (for every figure but a density: worse). */
  readonly change: number | undefined;
}

/** Roomline's value over the direct call's, when both were measured and the direct call's is not zero. */
export function ratioToDirect(values: FigureValues | undefined): number | undefined {
  if (values === undefined) return undefined;
  const { roomline, baseline } = values;
  if (roomline.kind !== 'value' || baseline.kind !== 'value' || baseline.value === 0) return undefined;
  return roomline.value / baseline.value;
}

/** Each figure of `now` beside the same figure of `before`, in the table's order. */
export function compareResults(before: BenchResults, now: BenchResults): FigureChange[] {
  return (Object.keys(FIGURES) as FigureId[]).map((id) => {
    const was = ratioToDirect(before.figures[id]);
    const is = ratioToDirect(now.figures[id]);
    return {
      id,
      label: FIGURES[id].label,
      before: was,
      now: is,
      change: was === undefined || is === undefined || was === 0 ? undefined : is / was,
    };
  });
}

function commitOf(results: BenchResults): string {
  const commit = results.commit;
  if (commit === undefined) return 'commit not recorded';
  return `${commit.commit.slice(0, 12)}${commit.dirty ? ' (dirty)' : ''}`;
}

/** The comparison as a Markdown table, headed by the two runs (date, mode, commit, machine). */
export function renderComparison(before: BenchResults, now: BenchResults): string {
  const ratio = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
  const change = (v: number | undefined) => (v === undefined ? 'n/a' : `${v >= 1 ? '+' : ''}${((v - 1) * 100).toFixed(0)} %`);
  const run = (r: BenchResults) =>
    `${r.date}, ${r.mode}, ${commitOf(r)}, ${r.machine.cores} CPUs, load at start ${r.machine.load?.atStart.map((l) => l.toFixed(2)).join(' ') ?? 'n/a'}`;
  const lines = [
    `before: ${run(before)}`,
    `now:    ${run(now)}`,
    '',
    '| figure | before (Roomline ÷ direct) | now (Roomline ÷ direct) | change |',
    '| --- | --- | --- | --- |',
    ...compareResults(before, now).map((c) => `| ${c.label} | ${ratio(c.before)} | ${ratio(c.now)} | ${change(c.change)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
