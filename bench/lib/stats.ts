/**
 * Order statistics for benchmark figures (setup times, delays, per-call usage).
 *
 * Percentiles interpolate linearly between the two nearest ranks (Hyndman & Fan type 7, the default of NumPy, R and
 * spreadsheets): with n sorted values v[0..n-1], the p-th percentile is read at position (p / 100) · (n − 1). It is
 * exact at the extremes (p0 = min, p100 = max) and does not jump when one more call is added. With few samples, a high
 * percentile is essentially the largest value: the p95 of 20 calls lies between the 19th and the 20th.
 */

/** What `summarize` tells about a set of measurements. All values are in the unit of the input. */
export interface Summary {
  /** Number of values. */
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The p-th percentile of `values` (p in 0..100), interpolated linearly between nearest ranks.
 *
 * @throws RangeError when `values` is empty, holds a value that is not finite, or p is outside 0..100.
 */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(sortedFinite(values, 'percentile'), p);
}

/**
 * Count, median, p95, min, max and mean of `values`.
 *
 * @throws RangeError when `values` is empty or holds a value that is not finite: a figure measured on nothing has no
 * summary, and the caller decides how to report that.
 */
export function summarize(values: readonly number[]): Summary {
  const sorted = sortedFinite(values, 'summarize');
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    n: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}

function sortedFinite(values: readonly number[], what: string): number[] {
  if (values.length === 0) throw new RangeError(`${what}: no values`);
  const bad = values.find((value) => !Number.isFinite(value));
  if (bad !== undefined) throw new RangeError(`${what}: values must be finite numbers, got ${bad}`);
  return [...values].sort((a, b) => a - b);
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  const position = (p / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below]!;
  return low + (sorted[above]! - low) * (position - below);
}
