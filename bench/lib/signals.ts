import { writeFile } from 'node:fs/promises';
import { encodeWav } from '../../lab/audio-analysis.js';
import { fft } from '../../lab/fft.js';
import { chirpClick, resolveShape, type ClickShape } from '../../lab/pages/person/clicks.js';
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
 * Where a recording's timeline is known: [seconds from its first sample, epoch ms] pairs, ascending in both. A phone's
 * recording knows one point (its last write); a page's recording one about every 100 ms (when each block arrived).
 * Between two anchors the timeline is interpolated; beyond them it is extrapolated at the pace fitted from the clicks,
 * not at the nominal sample rate (a recording's clock may be off by several per cent).
 */
export interface RecordingTimeline {
  readonly anchors: readonly (readonly [number, number])[];
}

export interface ScheduledDelayOptions {
  /** Shortest plausible one-way delay, in seconds (negative when the two clocks may be misaligned). */
  readonly minDelayS: number;
  /** Longest plausible one-way delay, in seconds; `maxDelayS − minDelayS` must be shorter than the click period. */
  readonly maxDelayS: number;
  /** Largest pace difference between the sender's clock and the recording's, as a fraction. @default 0.15 */
  readonly maxSkew?: number;
  /**
   * How far a click may sit from the fitted timeline and still count in the fit, in seconds (a jitter buffer that
   * stretches or shrinks audio moves clicks by a few ms). @default 0.02
   */
  readonly fitToleranceS?: number;
  /** Half-width of the window around each click's fitted place where it is looked for, in seconds. @default 0.04 */
  readonly searchS?: number;
  /** @default the default click */
  readonly click?: ClickShape;
  /** As for `estimateDelays`. @default 0.7 */
  readonly threshold?: number;
  /** As for `estimateDelays`. @default −60 */
  readonly silenceDbfs?: number;
}

/** How a recording's clock relates to the sender's, from the clicks found in it. */
export interface ClockFit {
  /** Recording seconds per second of the sender's clock (1: the same pace; 0.87: the recording's clock runs 13 % slow). */
  readonly scale: number;
  /** Where the first scheduled click lies in the recording with the fitted delay, in seconds. */
  readonly offsetS: number;
  /** Clicks that agreed with the fit (within `fitToleranceS`). */
  readonly inliers: number;
  /** Root-mean-square distance of those clicks from the fitted line, in seconds. */
  readonly rmsResidualS: number;
}

export interface ScheduledDelayEstimate extends DelayEstimate {
  /** The recording's clock fitted to the schedule; undefined when fewer than two clicks were found. */
  readonly fit: ClockFit | undefined;
}

/**
 * The one-way delay of each click of a train whose send times are known on the sender's wall clock, in a recording
 * whose own clock may run off pace (by up to `maxSkew`). In three steps:
 * 1. every click in the recording is found blind (correlation over the whole recording, peaks above the threshold);
 * 2. the recording's timeline is fitted to the schedule: place in the recording ≈ offset + scale × send time, the
 *    hypothesis (from pairs of neighbouring peaks matched to pairs of neighbouring clicks) that most peaks agree with
 *    and whose median delay lies within [minDelayS, maxDelayS] (which tells one period from the next), then refined
 *    by least squares on the peaks that agree;
 * 3. each scheduled click is looked for within `searchS` of its fitted place, and its delay is the wall time of that
 *    place (from the timeline's anchors, or extrapolated from the nearest one at the fitted pace) minus its send time.
 *
 * @param recording mono samples, −1..1.
 * @param emittedAtMs when each click left the sender (epoch ms), ascending.
 * @param timeline where the recording's timeline is known.
 * @throws RangeError on a bad option, a timeline without anchors, or send times closer than the search can tell apart.
 */
export function estimateScheduledDelays(
  recording: Float32Array,
  sampleRate: number,
  emittedAtMs: readonly number[],
  timeline: RecordingTimeline,
  options: ScheduledDelayOptions,
): ScheduledDelayEstimate {
  const maxSkew = options.maxSkew ?? 0.15;
  const tolerance = options.fitToleranceS ?? 0.02;
  const searchS = options.searchS ?? 0.04;
  const threshold = options.threshold ?? 0.7;
  const shape = options.click ?? {};
  const { length: clickLength, clickS } = resolveShape(sampleRate, shape);
  if (!(options.maxDelayS > options.minDelayS)) {
    throw new RangeError(`maxDelayS (${options.maxDelayS}) must be above minDelayS (${options.minDelayS})`);
  }
  if (!(maxSkew >= 0 && maxSkew < 0.5)) throw new RangeError(`maxSkew must be within [0, 0.5), got ${maxSkew}`);
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be within (0, 1], got ${threshold}`);
  if (!(tolerance > 0 && searchS > 0)) throw new RangeError('fitToleranceS and searchS must be above 0');
  if (timeline.anchors.length === 0) throw new RangeError('the recording timeline needs at least one anchor');
  const sendS = emittedAtMs.map((at) => (at - emittedAtMs[0]!) / 1000);
  for (let i = 1; i < sendS.length; i++) {
    // in the recording two clicks may come closer by the skew; one period more or less of delay is told by the window
    const gap = sendS[i]! - sendS[i - 1]!;
    if (!(gap * (1 - maxSkew) > 2 * searchS + clickS) || !(gap > options.maxDelayS - options.minDelayS)) {
      throw new RangeError(
        `clicks ${((sendS[i]! - sendS[i - 1]!) * 1000).toFixed(1)} ms apart cannot be told apart with a clock off by ` +
          `up to ${maxSkew * 100} % when searching delays of ${options.minDelayS * 1000}..${options.maxDelayS * 1000} ms`,
      );
    }
  }

  const scores = detectionScores(recording, sampleRate, shape, options.silenceDbfs ?? -60);
  const minGapS = sendS.length > 1 ? Math.min(...sendS.slice(1).map((s, i) => s - sendS[i]!)) * (1 - maxSkew) : 1;
  const peaks = findPeaks(scores, sampleRate, threshold, minGapS / 2);
  const wallAt = (positionS: number, scale: number) => wallTime(timeline.anchors, positionS, scale);
  const fit = fitClock(peaks, sendS, emittedAtMs, wallAt, { maxSkew, tolerance, minDelayS: options.minDelayS, maxDelayS: options.maxDelayS });

  const clicks = emittedAtMs.map((atMs, index): ClickDelay => {
    if (fit === undefined) return { index, expectedS: NaN, status: 'missing', delayS: undefined, score: 0 };
    const expectedS = fit.offsetS + fit.scale * sendS[index]!;
    const lo = Math.max(0, Math.ceil((expectedS - searchS) * sampleRate));
    const hi = Math.min(scores.length - 1, Math.floor((expectedS + searchS) * sampleRate));
    if (hi < lo || expectedS - searchS < 0 || (expectedS + searchS) * sampleRate > recording.length - clickLength) {
      return { index, expectedS, status: 'outside', delayS: undefined, score: 0 };
    }
    let best = lo;
    for (let i = lo; i <= hi; i++) if (scores[i]! > scores[best]!) best = i;
    const peak = scores[best]!;
    if (peak < threshold) return { index, expectedS, status: 'missing', delayS: undefined, score: peak };
    const positionS = refine(scores, best) / sampleRate;
    return { index, expectedS, status: 'found', delayS: (wallAt(positionS, fit.scale) - atMs) / 1000, score: peak };
  });

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
    fit,
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

/** Wall time (epoch ms) of a place in a recording: interpolated between anchors, else from the nearest at `scale`. */
function wallTime(anchors: readonly (readonly [number, number])[], positionS: number, scale: number): number {
  const first = anchors[0]!;
  const last = anchors.at(-1)!;
  if (positionS <= first[0]) return first[1] + ((positionS - first[0]) / scale) * 1000;
  if (positionS >= last[0]) return last[1] + ((positionS - last[0]) / scale) * 1000;
  let lo = 0;
  let hi = anchors.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (anchors[mid]![0] <= positionS) lo = mid;
    else hi = mid;
  }
  const [sa, wa] = anchors[lo]!;
  const [sb, wb] = anchors[hi]!;
  return sb === sa ? wa : wa + ((positionS - sa) / (sb - sa)) * (wb - wa);
}

/** Normalised correlation score (0..1) of the click at every lag of the recording, block by block through the FFT. */
function detectionScores(recording: Float32Array, sampleRate: number, shape: ClickShape, silenceDbfs: number): Float32Array {
  const reference = quadratureReference(sampleRate, shape);
  const clickLength = reference.samples.length;
  const lags = Math.max(0, recording.length - clickLength + 1);
  const scores = new Float32Array(lags);
  const energy = new Float64Array(recording.length + 1);
  for (let i = 0; i < recording.length; i++) energy[i + 1] = energy[i]! + recording[i]! ** 2;
  const minEnergy = (10 ** (silenceDbfs / 20)) ** 2 * clickLength;
  const block = Math.max(1 << 15, nextPowerOfTwo(4 * clickLength));
  const step = block - clickLength + 1;
  for (let from = 0; from < lags; from += step) {
    const size = Math.min(block, recording.length - from);
    const correlation = correlate(recording, from, size, reference);
    for (let lag = 0; lag < size - clickLength + 1; lag++) {
      const e = energy[from + lag + clickLength]! - energy[from + lag]!;
      if (e < minEnergy) continue;
      scores[from + lag] = Math.hypot(correlation.re[lag]!, correlation.im[lag]!) / (reference.norm * Math.sqrt(e));
    }
  }
  return scores;
}

/** Local maxima at or above the threshold, strongest first kept, no two within `separationS`; in seconds, ascending. */
function findPeaks(scores: Float32Array, sampleRate: number, threshold: number, separationS: number): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v >= threshold && v >= (scores[i - 1] ?? 0) && v > (scores[i + 1] ?? 0)) candidates.push(i);
  }
  candidates.sort((a, b) => scores[b]! - scores[a]!);
  const separation = separationS * sampleRate;
  const kept: number[] = [];
  for (const c of candidates) if (kept.every((k) => Math.abs(k - c) >= separation)) kept.push(c);
  return kept.map((k) => refine(scores, k) / sampleRate).sort((a, b) => a - b);
}

/** Sub-sample place of a peak: parabolic interpolation between its neighbours. */
function refine(scores: Float32Array, index: number): number {
  const peak = scores[index]!;
  const before = scores[index - 1] ?? peak;
  const after = scores[index + 1] ?? peak;
  const curve = before - 2 * peak + after;
  return index + (curve < 0 ? (0.5 * (before - after)) / curve : 0);
}

function fitClock(
  peaks: readonly number[],
  sendS: readonly number[],
  emittedAtMs: readonly number[],
  wallAt: (positionS: number, scale: number) => number,
  limits: { maxSkew: number; tolerance: number; minDelayS: number; maxDelayS: number },
): ClockFit | undefined {
  if (peaks.length < 2 || sendS.length < 2) return undefined;
  // which scheduled click each peak is under the line (offset, scale), if within tolerance
  const match = (offset: number, scale: number): [number, number][] => {
    const pairs: [number, number][] = [];
    const used = new Set<number>();
    for (const p of peaks) {
      const t = (p - offset) / scale;
      let lo = 0;
      let hi = sendS.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (sendS[mid]! <= t) lo = mid;
        else hi = mid;
      }
      const k = Math.abs(sendS[lo]! - t) <= Math.abs(sendS[hi]! - t) ? lo : hi;
      if (used.has(k) || Math.abs(offset + scale * sendS[k]! - p) > limits.tolerance) continue;
      used.add(k);
      pairs.push([k, p]);
    }
    return pairs;
  };
  const medianDelay = (pairs: readonly [number, number][], scale: number) =>
    percentile(
      pairs.map(([k, p]) => (wallAt(p, scale) - emittedAtMs[k]!) / 1000),
      50,
    );
  let best: { pairs: [number, number][]; offset: number; scale: number; residual: number } | undefined;
  for (let i = 0; i < peaks.length; i++) {
    for (let j = i + 1; j <= Math.min(i + 2, peaks.length - 1); j++) {
      for (let k = 0; k < sendS.length; k++) {
        for (let l = k + 1; l <= Math.min(k + 3, sendS.length - 1); l++) {
          const scale = (peaks[j]! - peaks[i]!) / (sendS[l]! - sendS[k]!);
          if (Math.abs(scale - 1) > limits.maxSkew) continue;
          const offset = peaks[i]! - scale * sendS[k]!;
          const pairs = match(offset, scale);
          if (best !== undefined && pairs.length < best.pairs.length) continue;
          const delay = medianDelay(pairs, scale);
          if (delay < limits.minDelayS || delay > limits.maxDelayS) continue;
          const residual = pairs.reduce((sum, [kk, p]) => sum + (offset + scale * sendS[kk]! - p) ** 2, 0);
          if (best === undefined || pairs.length > best.pairs.length || residual < best.residual) {
            best = { pairs, offset, scale, residual };
          }
        }
      }
    }
  }
  if (best === undefined || best.pairs.length < 2) return undefined;
  // least squares on the agreeing peaks: p = offset + scale·s
  const n = best.pairs.length;
  const meanS = best.pairs.reduce((sum, [k]) => sum + sendS[k]!, 0) / n;
  const meanP = best.pairs.reduce((sum, [, p]) => sum + p, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [k, p] of best.pairs) {
    sxy += (sendS[k]! - meanS) * (p - meanP);
    sxx += (sendS[k]! - meanS) ** 2;
  }
  const scale = sxx > 0 ? sxy / sxx : best.scale;
  const offset = meanP - scale * meanS;
  const rms = Math.sqrt(best.pairs.reduce((sum, [k, p]) => sum + (offset + scale * sendS[k]! - p) ** 2, 0) / n);
  return { scale, offsetS: offset, inliers: n, rmsResidualS: rms };
}

interface Reference {
  readonly samples: Float32Array;
  readonly quadrature: Float32Array;
  readonly norm: number;
  /** Spectrum of the complex click (in-phase + i·quadrature) conjugated, by FFT size. */
  readonly spectra: Map<number, { re: Float64Array; im: Float64Array }>;
}

function quadratureReference(sampleRate: number, shape: ClickShape): Reference {
  const samples = chirpClick(sampleRate, shape);
  const quadrature = chirpClick(sampleRate, shape, { quadrature: true });
  let sum = 0;
  for (const v of samples) sum += v * v;
  return { samples, quadrature, norm: Math.sqrt(sum), spectra: new Map() };
}

/**
 * y[lag] = Σ_k x[from + lag + k] · (c[k] + i·q[k]) for lag = 0 .. size − length(c), through the FFT:
 * y = IFFT(X · conj(FFT(c − i·q))).
 */
function correlate(
  recording: Float32Array,
  from: number,
  size: number,
  reference: Reference,
): { re: Float64Array; im: Float64Array } {
  const n = nextPowerOfTwo(size);
  let spectrum = reference.spectra.get(n);
  if (spectrum === undefined) {
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    re.set(reference.samples);
    for (let k = 0; k < reference.quadrature.length; k++) im[k] = -reference.quadrature[k]!;
    fft(re, im, false);
    for (let k = 0; k < n; k++) im[k] = -im[k]!;
    spectrum = { re, im };
    reference.spectra.set(n, spectrum);
  }
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re.set(recording.subarray(from, from + size));
  fft(re, im, false);
  for (let k = 0; k < n; k++) {
    const ar = re[k]!;
    const ai = im[k]!;
    const br = spectrum.re[k]!;
    const bi = spectrum.im[k]!;
    re[k] = ar * br - ai * bi;
    im[k] = ar * bi + ai * br;
  }
  fft(re, im, true);
  return { re, im };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

