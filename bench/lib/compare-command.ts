import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderComparison } from './compare.js';
import type { BenchResults } from './report.js';

const LATEST = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.json');

/**
 * `npm run bench -- --compare EARLIER.json [--to LATER.json]`: prints each figure of the later result (the last run's,
 * bench/results/latest.json, unless `--to` names one) against the earlier one, as ratios to the direct call, and runs
 * nothing. Returns whether it did (false: no `--compare`, the benchmark runs).
 */
export async function compareAndExit(argv: readonly string[]): Promise<boolean> {
  const at = argv.indexOf('--compare');
  if (at === -1) return false;
  const earlier = argv[at + 1];
  if (earlier === undefined || earlier.startsWith('--')) throw new Error('--compare needs the file of an earlier result');
  const to = argv.indexOf('--to');
  const later = to === -1 ? LATEST : argv[to + 1];
  if (later === undefined) throw new Error('--to needs the file of a result');
  const read = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as BenchResults;
  process.stdout.write(renderComparison(await read(earlier), await read(later)));
  return true;
}
