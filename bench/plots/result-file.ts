import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { BENCH_MODES, type BenchResults } from '../lib/report.js';

/**
 * Reads a benchmark result file for its plots: what `npm run bench` wrote (`bench/results/latest.json` or a copy),
 * checked for the fields the plots read, so a file that is not a result fails with what is wrong rather than drawing
 * nothing.
 */

/** A file that is not a benchmark result: not there, not JSON, or JSON of another shape. */
export class NotABenchResult extends Error {
  override readonly name = 'NotABenchResult';
}

const point = z.tuple([z.number(), z.number()]);
const setupSample = z.object({
  invite: z.number().optional(),
  answer: z.number().optional(),
  audioAtPhone: z.number().optional(),
  audioInRoom: z.number().optional(),
});
const setupPaths = z.object({ roomline: z.array(setupSample), direct: z.array(setupSample) });
const clicks = z.array(z.object({ click: z.number(), delayMs: z.number() }));
const delay = z.object({
  knownDelayMs: z.number(),
  trains: z.object({ roomToPhone: clicks.optional(), phoneToRoom: clicks.optional(), calibration: clicks.optional() }),
});
const cpu = z.array(z.object({ process: z.string(), points: z.array(point) }));
const leg = z.object({ lossPercent: z.number(), concealedPercent: z.number() });

const seriesSchema = z.object({
  setup: z.object({ warm: setupPaths.optional(), cold: setupPaths.optional() }).optional(),
  delay: z.object({ roomline: delay.optional(), direct: delay.optional() }).optional(),
  cpu: z.object({ roomline: cpu.optional(), direct: cpu.optional() }).optional(),
  density: z.array(z.object({ variant: z.string(), calls: z.number(), sip: leg.optional(), room: leg.optional() })).optional(),
});

const resultSchema = z.looseObject({
  version: z.literal(1),
  date: z.string(),
  mode: z.enum(BENCH_MODES),
  machine: z.looseObject({ cpuModel: z.string(), cores: z.number() }),
  figures: z.record(z.string(), z.unknown()),
  series: seriesSchema.optional(),
});

/**
 * The result in `text`, checked.
 *
 * @throws NotABenchResult when it is not JSON or lacks what a result has (version 1, date, mode, machine, figures),
 * naming the first field that is wrong.
 */
export function parseBenchResult(text: string, file: string): BenchResults {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NotABenchResult(`${file} is not a benchmark result: not JSON (${(error as Error).message})`);
  }
  const parsed = resultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'the top level' : issue.path.join('.');
    throw new NotABenchResult(`${file} is not a benchmark result: ${where}: ${issue?.message ?? 'wrong shape'}`);
  }
  // the figures are the table's business: the plots read the series, checked above
  return parsed.data as unknown as BenchResults;
}

/**
 * Reads and checks a result file.
 *
 * @throws NotABenchResult when the file cannot be read or is not a result.
 */
export async function readBenchResult(file: string): Promise<BenchResults> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new NotABenchResult(`${file} is not a benchmark result: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseBenchResult(text, file);
}
