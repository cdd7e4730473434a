import { readFile } from 'node:fs/promises';
import { fft } from './fft.js';

/**
 * What the lab checks in recorded audio: the dominant frequency, its level, how much of the signal it is, and when
 * sound started. Used on baresip's recordings (WAV) and on the simulated person's recording (PCM).
 */
export interface Pcm {
  readonly sampleRate: number;
  /** Mono samples, -1..1. */
  readonly samples: Float32Array;
}

export interface ToneReport {
  /** Dominant frequency of the sound, in Hz (0 when silent). */
  readonly frequencyHz: number;
  /** RMS level of the sound part, in dBFS. */
  readonly levelDbfs: number;
  /** Share of the signal's energy within ±2% of the dominant frequency, 0..1. */
  readonly purity: number;
  /** Seconds from the start of the recording to the first 10 ms above the onset threshold; undefined if silent. */
  readonly onsetS: number | undefined;
  /** Seconds of audio above the onset threshold. */
  readonly soundS: number;
  readonly durationS: number;
}

/** Level below which a 10 ms window counts as silence. */
export const ONSET_THRESHOLD_DBFS = -50;

/** Reads a 16-bit PCM WAV file (any channel count; channels are averaged). */
export async function readWav(path: string): Promise<Pcm> {
  return parseWav(await readFile(path));
}

export function parseWav(buffer: Buffer): Pcm {
  if (buffer.toString('ascii', 0, 4) !== 'RIFF' || buffer.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  while (offset + 8 <= buffer.length) {
    const id = buffer.toString('ascii', offset, offset + 4);
    let size = buffer.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      channels = buffer.readUInt16LE(body + 2);
      sampleRate = buffer.readUInt32LE(body + 4);
      bits = buffer.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16 || channels === 0) throw new Error(`unsupported WAV: ${bits}-bit, ${channels} channels`);
      // a recorder stopped abruptly may leave the size unset: take what is there
      if (size === 0 || body + size > buffer.length) size = buffer.length - body;
      const frames = Math.floor(size / (2 * channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += buffer.readInt16LE(body + (i * channels + c) * 2);
        samples[i] = sum / channels / 32768;
      }
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV file has no data chunk');
}

/** Mono 16-bit little-endian PCM (base64), as the lab person page returns it. */
export function pcmFromBase64(base64: string, sampleRate: number): Pcm {
  const bytes = Buffer.from(base64, 'base64');
  const samples = new Float32Array(Math.floor(bytes.length / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2) / 32768;
  return { sampleRate, samples };
}

/**
 * Where a wall-clock time falls in a recording, in seconds from its first sample, from the recording's anchors
 * ([sample index, epoch ms] pairs): interpolated between anchors, extrapolated along the nearest segment beyond them
 * (at the nominal rate when there is a single anchor).
 */
export function timelineOf(
  anchors: readonly (readonly [number, number])[],
  sampleRate: number,
  startedAt: number,
): (wallMs: number) => number {
  const points = anchors.length > 0 ? anchors : [[0, startedAt] as const];
  return (wallMs) => {
    let i = points.findIndex(([, wall]) => wall >= wallMs);
    if (i === -1) i = points.length - 1;
    const [sb, wb] = points[i]!;
    const [sa, wa] = points[Math.max(0, i - 1)]!;
    const index = wb === wa ? sb + ((wallMs - wb) / 1000) * sampleRate : sa + ((wallMs - wa) / (wb - wa)) * (sb - sa);
    return index / sampleRate;
  };
}

/** The part of a recording from `fromS` to `toS` seconds (clamped to the recording). */
export function sliceSeconds(pcm: Pcm, fromS: number, toS: number): Pcm {
  const from = Math.max(0, Math.round(fromS * pcm.sampleRate));
  const to = Math.min(pcm.samples.length, Math.max(from, Math.round(toS * pcm.sampleRate)));
  return { sampleRate: pcm.sampleRate, samples: pcm.samples.subarray(from, to) };
}

/** A WAV file (16-bit PCM) of the given mono samples, duplicated to `channels`. */
export function encodeWav(samples: Float32Array, sampleRate: number, channels = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2 * channels);
  for (let i = 0; i < samples.length; i++) {
    const value = Math.max(-32768, Math.min(32767, Math.round((samples[i] ?? 0) * 32767)));
    for (let c = 0; c < channels; c++) data.writeInt16LE(value, (i * channels + c) * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Analyses a recording: where sound starts, and the dominant tone of the sound after it. */
export function analyseTone(pcm: Pcm): ToneReport {
  const window = Math.max(1, Math.round(pcm.sampleRate / 100)); // 10 ms
  const threshold = 10 ** (ONSET_THRESHOLD_DBFS / 20);
  let onsetIndex: number | undefined;
  let soundWindows = 0;
  for (let start = 0; start + window <= pcm.samples.length; start += window) {
    if (rms(pcm.samples, start, start + window) > threshold) {
      onsetIndex ??= start;
      soundWindows++;
    }
  }
  const durationS = pcm.samples.length / pcm.sampleRate;
  if (onsetIndex === undefined) {
    return { frequencyHz: 0, levelDbfs: -Infinity, purity: 0, onsetS: undefined, soundS: 0, durationS };
  }
  // analyse up to 2^15 samples (0.68 s at 48 kHz) starting 100 ms after the onset, past any fade-in
  const from = Math.min(onsetIndex + Math.round(pcm.sampleRate / 10), Math.max(0, pcm.samples.length - 1024));
  const size = largestPowerOfTwo(Math.min(32_768, pcm.samples.length - from));
  const segment = pcm.samples.subarray(from, from + size);
  const { frequencyHz, purity } = dominantFrequency(segment, pcm.sampleRate);
  return {
    frequencyHz: Math.round(frequencyHz * 10) / 10,
    levelDbfs: Math.round(20 * Math.log10(rms(segment, 0, segment.length)) * 10) / 10,
    purity: Math.round(purity * 1000) / 1000,
    onsetS: onsetIndex / pcm.sampleRate,
    soundS: (soundWindows * window) / pcm.sampleRate,
    durationS,
  };
}

/**
 * The longest silence (10 ms windows below {@link ONSET_THRESHOLD_DBFS}) between `fromS` and `toS` seconds, in
 * seconds: a gap a listener hears in what should be continuous sound.
 */
export function longestGapS(pcm: Pcm, fromS = 0, toS = Number.POSITIVE_INFINITY): number {
  return longestGap(pcm, fromS, toS).lengthS;
}

/** The longest silence between `fromS` and `toS` (10 ms windows, as {@link longestGapS}) and where it starts. */
export function longestGap(pcm: Pcm, fromS = 0, toS = Number.POSITIVE_INFINITY): { lengthS: number; atS: number | undefined } {
  const window = Math.max(1, Math.round(pcm.sampleRate / 100));
  const threshold = 10 ** (ONSET_THRESHOLD_DBFS / 20);
  const first = Math.max(0, Math.floor(fromS * pcm.sampleRate));
  const last = Math.min(pcm.samples.length, Math.floor(toS * pcm.sampleRate));
  let longest = 0;
  let longestEnd = -1;
  let run = 0;
  for (let start = first; start + window <= last; start += window) {
    run = rms(pcm.samples, start, start + window) > threshold ? 0 : run + 1;
    if (run > longest) {
      longest = run;
      longestEnd = start + window;
    }
  }
  const atS = longest === 0 ? undefined : (longestEnd - longest * window) / pcm.sampleRate;
  return { lengthS: (longest * window) / pcm.sampleRate, atS };
}

/**
 * Where `hz` is heard in `pcm` (its share of 100 ms windows above `minShare`): the first and the last such window's
 * start, in seconds; undefined when never.
 */
export function toneSpanS(pcm: Pcm, hz: number, minShare = 0.1): { fromS: number; toS: number } | undefined {
  const window = Math.round(pcm.sampleRate / 10);
  let fromS: number | undefined;
  let toS: number | undefined;
  for (let start = 0; start + window <= pcm.samples.length; start += window) {
    const slice = { ...pcm, samples: pcm.samples.subarray(start, start + window) };
    if (toneShare(slice, hz) <= minShare) continue;
    fromS ??= start / pcm.sampleRate;
    toS = start / pcm.sampleRate;
  }
  return fromS === undefined || toS === undefined ? undefined : { fromS, toS };
}

/** Share of the signal's energy within ±2% of `hz` (Hann-windowed spectrum of up to 2^15 samples), 0..1. */
export function toneShare(pcm: Pcm, hz: number): number {
  const size = largestPowerOfTwo(Math.min(32_768, pcm.samples.length));
  if (size < 64) return 0;
  const { power, total } = spectrum(pcm.samples.subarray(0, size));
  const centre = Math.round((hz * size) / pcm.sampleRate);
  const band = Math.max(2, Math.round((hz * 0.02 * size) / pcm.sampleRate));
  let inBand = 0;
  for (let k = Math.max(1, centre - band); k <= Math.min(power.length - 1, centre + band); k++) inBand += power[k]!;
  return total > 0 ? inBand / total : 0;
}

/** Whether `report` shows a tone at `expectedHz` (±3%) that dominates the signal. */
export function hasTone(report: ToneReport, expectedHz: number, minPurity = 0.5): boolean {
  return Math.abs(report.frequencyHz - expectedHz) <= expectedHz * 0.03 && report.purity >= minPurity;
}

function rms(samples: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (samples[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

function largestPowerOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** Peak of the Hann-windowed power spectrum, refined by parabolic interpolation, and its share of the energy. */
function dominantFrequency(segment: Float32Array, sampleRate: number): { frequencyHz: number; purity: number } {
  const n = segment.length;
  if (n < 64) return { frequencyHz: 0, purity: 0 };
  const { power, total } = spectrum(segment);
  const half = n / 2;
  let peak = 1;
  for (let k = 1; k < half; k++) if (power[k]! > power[peak]!) peak = k;
  const a = power[peak - 1] ?? 0;
  const b = power[peak]!;
  const c = power[peak + 1] ?? 0;
  const shift = a - 2 * b + c === 0 ? 0 : (0.5 * (a - c)) / (a - 2 * b + c);
  const frequencyHz = ((peak + shift) * sampleRate) / n;
  const band = Math.max(2, Math.round((frequencyHz * 0.02 * n) / sampleRate));
  let inBand = 0;
  for (let k = Math.max(1, peak - band); k <= Math.min(half - 1, peak + band); k++) inBand += power[k]!;
  return { frequencyHz, purity: total > 0 ? inBand / total : 0 };
}

/** Power spectrum of the Hann-windowed `segment` (a power-of-two length), bins 1..n/2-1, and its total. */
function spectrum(segment: Float32Array): { power: Float64Array; total: number } {
  const n = segment.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = (segment[i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  fft(re, im, false);
  const half = n / 2;
  const power = new Float64Array(half);
  let total = 0;
  for (let k = 1; k < half; k++) {
    power[k] = (re[k] ?? 0) ** 2 + (im[k] ?? 0) ** 2;
    total += power[k]!;
  }
  return { power, total };
}
