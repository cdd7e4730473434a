import { fft } from '../../lab/fft.js';
import { chirpClick, type ClickShape } from '../../lab/pages/person/clicks.js';

/**
 * Finding a click in a recording: the recording correlated, through the FFT, with the click and its quadrature, and
 * the magnitude of the pair divided by the energy under the window (see `signals.ts`), at every lag or in a window.
 */

export interface Reference {
  readonly samples: Float32Array;
  readonly quadrature: Float32Array;
  readonly norm: number;
  /** Spectrum of the complex click (in-phase + i·quadrature) conjugated, by FFT size. */
  readonly spectra: Map<number, { re: Float64Array; im: Float64Array }>;
}

export function quadratureReference(sampleRate: number, shape: ClickShape): Reference {
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
export function correlate(
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

/** Normalised correlation score (0..1) of the click at every lag of the recording, block by block through the FFT. */
export function detectionScores(recording: Float32Array, sampleRate: number, shape: ClickShape, silenceDbfs: number): Float32Array {
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
export function findPeaks(scores: Float32Array, sampleRate: number, threshold: number, separationS: number): number[] {
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
export function refine(scores: Float32Array, index: number): number {
  const peak = scores[index]!;
  const before = scores[index - 1] ?? peak;
  const after = scores[index + 1] ?? peak;
  const curve = before - 2 * peak + after;
  return index + (curve < 0 ? (0.5 * (before - after)) / curve : 0);
}
