import { writeFile } from 'node:fs/promises';
import { encodeWav } from '../../lab/audio-analysis.js';
import { resolveShape, type ClickShape } from '../../lab/pages/person/clicks.js';
import { correlate, quadratureReference } from './click-correlation.js';
import { percentile } from './stats.js';

export { chirpClick, clickTrain, type ClickShape, type ClickTrain, type ClickTrainOptions } from '../../lab/pages/person/clicks.js';

/**
 * Test signals for mouth-to-ear delay: a train of short chirps played at one end of a call, and the delay of each
 * chirp in what the other end recorded, found by cross-correlation.
 *
 * A click is a linear chirp (500 → 3000 Hz by default) under a Hann window, 15 ms long: inside the band every voice
 * codec keeps (Opus, G.711, G.722), with a sharp correlation peak (about 1 / bandwidth = 0.4 ms wide). Detection
 * correlates the recording with the chirp and with its quadrature (the same chirp 90° shifted) and takes the
 * magnitude of the pair, so the score does not depend on a phase shift or a polarity inversion on the way, and divides
 * it by the energy under the window, so it does not depend on the gain: 1 is a perfect copy, noise stays far below.
 *
 * Here: clicks at offsets known in the recording's own timeline (`estimateDelays`); `scheduled-delays.ts` finds them
 * from their send times on the sender's clock, in a recording whose clock may run off pace.
 */

export interface DelayOptions {
  /** Longest delay searched, in seconds. Clicks must be further apart than the searched range plus one click. */
  readonly maxDelayS: number;
  /** Shortest delay searched, in seconds (negative when the two timelines may be misaligned). @default 0 */
  readonly minDelayS?: number;
  /** The clicks played, as given to `clickTrain`. @default the default click */
  readonly click?: ClickShape;
  /**
   * Score (0..1) a correlation peak needs to count as the click. Clicks through Opus at 12–32 kbps score 0.93–0.99 and
   * through G.711 1.0; white noise stays under 0.2 and noise narrowed to the click's band under 0.6.
   * @default 0.7
   */
  readonly threshold?: number;
  /** Level under which the recording counts as silence, where nothing is detected, in dBFS RMS. @default −60 */
  readonly silenceDbfs?: number;
}

export interface ClickDelay {
  /** Index of the click in `clickOffsetsS`. */
  readonly index: number;
  /** Where the click would be in the recording with no delay, in seconds. */
  readonly expectedS: number;
  /**
   * `found`: a peak above the threshold; `missing`: none (the click was lost or too distorted); `outside`: the
   * searched window is not within the recording, so the click says nothing about the path.
   */
  readonly status: 'found' | 'missing' | 'outside';
  /** Delay of the best peak, in seconds; defined only when `found`. */
  readonly delayS: number | undefined;
  /** Score of the best peak in the window, 0..1 (0 when `outside`). */
  readonly score: number;
}

export interface DelayEstimate {
  readonly clicks: readonly ClickDelay[];
  readonly found: number;
  readonly missing: number;
  readonly outside: number;
  /** Median delay of the clicks found, in seconds; undefined when none was found. */
  readonly medianS: number | undefined;
  /** 95th percentile of the delays found, in seconds; undefined when none was found. */
  readonly p95S: number | undefined;
  readonly minS: number | undefined;
  readonly maxS: number | undefined;
}

/**
 * The click spacing and the delay search window, derived from each other: clicks are spaced by the searched range
 * plus one click, times `1 + margin`, rounded up to 10 ms. The margin absorbs what squeezes the spacing on the way:
 * a recording's timeline mapped from wall time (a headless audio clock that drifts, blocks that arrive late) can put
 * two neighbouring clicks closer than they were played; `estimateDelays` refuses offsets closer than the range plus
 * one click, so without a margin a few percent of drift stops a whole measurement.
 */
export function clickSpacing(
  window: { readonly minDelayS: number; readonly maxDelayS: number },
  options: { readonly margin?: number; readonly click?: ClickShape; readonly sampleRate?: number } = {},
): { readonly periodMs: number; readonly minDelayS: number; readonly maxDelayS: number } {
  const margin = options.margin ?? 0.5;
  if (!(window.maxDelayS > window.minDelayS)) {
    throw new RangeError(`maxDelayS (${window.maxDelayS}) must be above minDelayS (${window.minDelayS})`);
  }
  if (!(margin >= 0.1)) throw new RangeError(`margin must be at least 0.1 (10 % of the spacing), got ${margin}`);
  const { clickS } = resolveShape(options.sampleRate ?? 48_000, options.click ?? {});
  const needed = (window.maxDelayS - window.minDelayS + clickS) * (1 + margin);
  return { periodMs: Math.ceil((needed * 1000) / 10) * 10, minDelayS: window.minDelayS, maxDelayS: window.maxDelayS };
}

/**
 * Writes `samples` as a 16-bit PCM WAV file with the same signal on two channels: what baresip's aufile source plays
 * (it wants stereo 16-bit at 48 kHz).
 */
export async function writeStereoWav16(path: string, samples: Float32Array, sampleRate: number): Promise<void> {
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  await writeFile(path, encodeWav(samples, sampleRate, 2));
}

/**
 * The delay of each click in `recording`: for each expected offset, the strongest match of the click within
 * [offset + minDelayS, offset + maxDelayS], if its score reaches the threshold; and the median and p95 of the delays
 * found. Correlation runs per click through an FFT (about 5 ms per click for a 0.5 s window at 48 kHz).
 *
 * @param recording mono samples, −1..1.
 * @param sampleRate of the recording; the click is made at this rate from its shape.
 * @param clickOffsetsS where each click would start in the recording's own timeline with no delay, in seconds.
 * @throws RangeError when two clicks are too close for the searched range to tell them apart, or on a bad option.
 */
export function estimateDelays(
  recording: Float32Array,
  sampleRate: number,
  clickOffsetsS: readonly number[],
  options: DelayOptions,
): DelayEstimate {
  const minDelayS = options.minDelayS ?? 0;
  const threshold = options.threshold ?? 0.7;
  const silence = 10 ** ((options.silenceDbfs ?? -60) / 20);
  const shape = options.click ?? {};
  const { length: clickLength, clickS } = resolveShape(sampleRate, shape);
  if (!(options.maxDelayS > minDelayS)) {
    throw new RangeError(`maxDelayS (${options.maxDelayS}) must be above minDelayS (${minDelayS})`);
  }
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be within (0, 1], got ${threshold}`);
  const sorted = [...clickOffsetsS].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]! - sorted[i - 1]!;
    if (gap <= options.maxDelayS - minDelayS + clickS) {
      throw new RangeError(
        `clicks ${(gap * 1000).toFixed(1)} ms apart cannot be told apart when searching delays of ` +
          `${minDelayS * 1000}..${options.maxDelayS * 1000} ms: space them further or narrow the search`,
      );
    }
  }

  const reference = quadratureReference(sampleRate, shape);
  // prefix sums of the squared recording, for the energy under the click at each lag
  const energy = new Float64Array(recording.length + 1);
  for (let i = 0; i < recording.length; i++) energy[i + 1] = energy[i]! + recording[i]! ** 2;
  const minEnergy = silence ** 2 * clickLength;

  const clicks = clickOffsetsS.map((expectedS, index): ClickDelay => {
    const lo = Math.max(0, Math.ceil((expectedS + minDelayS) * sampleRate));
    const hi = Math.min(recording.length - clickLength, Math.floor((expectedS + options.maxDelayS) * sampleRate));
    if (hi < lo) return { index, expectedS, status: 'outside', delayS: undefined, score: 0 };
    const lags = hi - lo + 1;
    const correlation = correlate(recording, lo, lags + clickLength - 1, reference);
    const score = new Float64Array(lags);
    let best = 0;
    for (let lag = 0; lag < lags; lag++) {
      const e = energy[lo + lag + clickLength]! - energy[lo + lag]!;
      if (e < minEnergy) continue;
      score[lag] = Math.hypot(correlation.re[lag]!, correlation.im[lag]!) / (reference.norm * Math.sqrt(e));
      if (score[lag]! > score[best]!) best = lag;
    }
    const peak = score[best]!;
    if (peak < threshold) return { index, expectedS, status: 'missing', delayS: undefined, score: peak };
    // parabolic interpolation between the neighbours of the peak, for a delay finer than one sample
    const before = score[best - 1] ?? peak;
    const after = score[best + 1] ?? peak;
    const curve = before - 2 * peak + after;
    const shift = curve < 0 ? (0.5 * (before - after)) / curve : 0;
    return { index, expectedS, status: 'found', delayS: (lo + best + shift) / sampleRate - expectedS, score: peak };
  });

  return delayEstimate(clicks);
}

/** The counts of a set of clicks and the statistics of the delays found among them. */
export function delayEstimate(clicks: readonly ClickDelay[]): DelayEstimate {
  const delays = clicks.flatMap((c) => (c.delayS === undefined ? [] : [c.delayS]));
  const count = (status: ClickDelay['status']) => clicks.filter((c) => c.status === status).length;
  return {
    clicks,
    found: delays.length,
    missing: count('missing'),
    outside: count('outside'),
    medianS: delays.length > 0 ? percentile(delays, 50) : undefined,
    p95S: delays.length > 0 ? percentile(delays, 95) : undefined,
    minS: delays.length > 0 ? Math.min(...delays) : undefined,
    maxS: delays.length > 0 ? Math.max(...delays) : undefined,
  };
}

/**
 * What a measurement recovered of a known delay added to every click of a calibration train, each sent next to a
 * click of the plain train (same index): the median over the pairs found of (delayed click's delay − plain click's
 * delay), in seconds, and how many pairs. A delay that drifts over the call moves both clicks of a pair alike.
 */
export function recoveredDelay(
  plain: DelayEstimate,
  delayed: DelayEstimate,
): { readonly medianS: number; readonly pairs: number } | undefined {
  const differences: number[] = [];
  for (const click of delayed.clicks) {
    const neighbour = plain.clicks[click.index];
    if (click.delayS !== undefined && neighbour?.delayS !== undefined) differences.push(click.delayS - neighbour.delayS);
  }
  return differences.length === 0 ? undefined : { medianS: percentile(differences, 50), pairs: differences.length };
}
