import { describe, expect, it } from 'vitest';
import { percentile, summarize } from '../../bench/lib/stats.js';

describe('bench stats', () => {
  it('interpolates percentiles linearly between the nearest ranks, whatever the input order', () => {
    const values = [40, 10, 30, 20];

    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 100)).toBe(40);
    expect(percentile(values, 50)).toBe(25);
    // position 0.95 · 3 = 2.85: 30 + 0.85 · (40 − 30)
    expect(percentile(values, 95)).toBeCloseTo(38.5, 10);
    expect(values).toEqual([40, 10, 30, 20]);
  });

  it('reads the p95 of 20 calls between the two largest', () => {
    const setupMs = Array.from({ length: 20 }, (_, i) => 100 + i * 10); // 100..290

    const p95 = percentile(setupMs, 95);

    expect(p95).toBeGreaterThan(280);
    expect(p95).toBeLessThan(290);
  });

  it('gives the value itself for a single measurement', () => {
    expect(percentile([7], 95)).toBe(7);
    expect(summarize([7])).toEqual({ n: 1, p50: 7, p95: 7, min: 7, max: 7, mean: 7 });
  });

  it('summarizes count, median, p95, extremes and mean', () => {
    const summary = summarize([5, 1, 3, 2, 4]);

    expect(summary).toEqual({ n: 5, p50: 3, p95: 4.8, min: 1, max: 5, mean: 3 });
  });

  it('refuses empty input, non-finite values and percentiles outside 0..100', () => {
    expect(() => summarize([])).toThrow(/no values/);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(/finite/);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(/finite/);
    expect(() => percentile([1, 2], 101)).toThrow(/0\.\.100/);
    expect(() => percentile([1, 2], -1)).toThrow(/0\.\.100/);
  });
});
