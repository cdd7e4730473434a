/**
 * `npm run bench:plots -- FILE...`: draws the plots of existing benchmark results again, beside each file, without
 * running the benchmark (e.g. after a change to the plots, or for an older result kept under another name).
 * Exits 1 when a file is not a benchmark result, 2 without a file.
 */
import { NotABenchResult, readBenchResult } from './result-file.js';

const files = process.argv.slice(2).filter((a) => a !== '--');
if (files.length === 0) {
  process.stderr.write('usage: npm run bench:plots -- FILE... (a result written by npm run bench, e.g. bench/results/latest.json)\n');
  process.exit(2);
}
for (const file of files) {
  try {
    const results = await readBenchResult(file);
    // Vega loads only once there is something to draw: a wrong file fails at once
    const { describeOutcomes, writePlots } = await import('./render.js');
    const outcomes = await writePlots(file, results);
    for (const line of describeOutcomes(outcomes)) process.stdout.write(`${line}\n`);
  } catch (error) {
    if (!(error instanceof NotABenchResult)) throw error;
    process.stderr.write(`bench:plots: ${error.message}\n`);
    process.exit(1);
  }
}
