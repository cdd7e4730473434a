import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { BenchResults } from '../lib/report.js';
import { plotSpecs, type PlotId } from './specs.js';

/**
 * Draws a run's plots as SVG files beside its result JSON (`latest.json` → `latest.setup-time.svg`...), headless:
 * Vega-Lite compiled to Vega, rendered by a Vega view with no canvas or browser.
 */

/** What `writePlots` did with each plot: the file written, or why none was. */
export type PlotOutcome =
  | { readonly kind: 'written'; readonly id: PlotId; readonly file: string }
  | { readonly kind: 'missing'; readonly id: PlotId; readonly reason: string };

/** One Vega-Lite spec as an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The line under each plot's title naming the run it came from: date, mode, machine and load. */
export function runCaption(results: BenchResults): string {
  const { machine } = results;
  const load = machine.load === undefined ? '' : `, load ${machine.load.atStart[0]?.toFixed(1) ?? '?'} at the start`;
  return `${results.mode} run ${results.date.slice(0, 16).replace('T', ' ')} UTC; ${machine.cpuModel}, ${machine.cores} cores${load}`;
}

/** The file a plot of `jsonFile` is written to: beside it, named after it. */
export function plotFile(jsonFile: string, id: PlotId): string {
  return join(dirname(jsonFile), `${basename(jsonFile, extname(jsonFile))}.${id}.svg`);
}

/** Writes every plot the results can draw beside `jsonFile`; reports each one written or left out. */
export async function writePlots(jsonFile: string, results: BenchResults): Promise<readonly PlotOutcome[]> {
  const outcomes: PlotOutcome[] = [];
  for (const plot of plotSpecs(results.series, { run: runCaption(results) })) {
    if (plot.kind === 'missing') {
      outcomes.push(plot);
      continue;
    }
    const file = plotFile(jsonFile, plot.id);
    await writeFile(file, await renderSvg(plot.spec));
    outcomes.push({ kind: 'written', id: plot.id, file });
  }
  return outcomes;
}

/** One line per plot, for the console. */
export function describeOutcomes(outcomes: readonly PlotOutcome[]): string[] {
  return outcomes.map((o) => (o.kind === 'written' ? `plot ${o.id}: ${o.file}` : `plot ${o.id}: not drawn (${o.reason})`));
}
