import { resolveShape, type ClickShape } from '../../lab/pages/person/clicks.js';
import { detectionScores, findPeaks, refine } from './click-correlation.js';
import { delayEstimate, type ClickDelay, type DelayEstimate } from './signals.js';
import { percentile } from './stats.js';

/**
 * The mouth-to-ear delay of clicks whose send times are known on the sender's wall clock, found in a recording whose
 * own clock may run off pace: the recording's timeline is fitted to the send schedule first (see
 * `estimateScheduledDelays`).
 */

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

  return { ...delayEstimate(clicks), fit };
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
