import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWav } from '../../lab/audio-analysis.js';
import { chirpClick, clickSpacing, clickTrain, estimateDelays, writeStereoWav16 } from '../../bench/lib/signals.js';

/** Seeded uniform 0..1 (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(next: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
}

/** Power of `samples` at `hz` (Goertzel). */
function powerAt(samples: Float32Array, hz: number, rate: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

const rate = 48_000;

describe('test signals and delay estimation', () => {
  it('makes a train of clicks at a fixed period, silent between clicks', () => {
    const train = clickTrain({ sampleRate: rate, durationS: 3, periodMs: 400, clickMs: 15, startS: 0.25, amplitude: 0.5 });

    expect(train.samples).toHaveLength(3 * rate);
    expect(train.offsetsS).toHaveLength(7); // 0.25, 0.65, ... 2.65
    train.offsetsS.forEach((offset, k) => expect(offset).toBeCloseTo(0.25 + 0.4 * k, 10));
    const peak = train.samples.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(0.45);
    expect(peak).toBeLessThanOrEqual(0.5);
    // nothing between the end of the first click and the start of the second
    const gap = train.samples.subarray(Math.ceil((0.25 + 0.016) * rate), Math.floor(0.65 * rate));
    expect(gap.every((v) => v === 0)).toBe(true);
  });

  it('keeps a click in the band voice codecs carry (500–3000 Hz)', () => {
    const click = chirpClick(rate, { clickMs: 15 });

    const inBand = powerAt(click, 1500, rate);
    expect(powerAt(click, 100, rate)).toBeLessThan(inBand / 100);
    expect(powerAt(click, 6000, rate)).toBeLessThan(inBand / 100);
  });

  it('finds a 37.5 ms delay through noise and an unknown gain, and reports dropped clicks as missing', () => {
    const next = random(5);
    const noise = gaussian(next);
    const sent = clickTrain({ sampleRate: rate, durationS: 12, periodMs: 400, clickMs: 15 });
    const delayed = clickTrain({ sampleRate: rate, durationS: 12, periodMs: 400, clickMs: 15, startS: 0.5 + 0.0375 });
    const gain = 0.1 + 0.8 * next();
    const recording = delayed.samples.map((v) => gain * v + 0.01 * noise());
    const dropped = [3, 10, 17];
    for (const index of dropped) {
      const from = Math.floor(delayed.offsetsS[index]! * rate);
      recording.fill(0, from, from + Math.ceil(0.016 * rate));
    }

    const estimate = estimateDelays(recording, rate, sent.offsetsS, { maxDelayS: 0.2 });

    expect(Math.abs(estimate.medianS! * 1000 - 37.5)).toBeLessThan(0.5);
    expect(Math.abs(estimate.p95S! * 1000 - 37.5)).toBeLessThan(0.5);
    expect(estimate.missing).toBe(dropped.length);
    expect(estimate.clicks.filter((c) => c.status === 'missing').map((c) => c.index)).toEqual(dropped);
    expect(estimate.found).toBe(sent.offsetsS.length - dropped.length);
    expect(estimate.outside).toBe(0);
  });

  it('finds a delay between two samples through an inverted polarity, at 16 kHz', () => {
    const sent = clickTrain({ sampleRate: 16_000, durationS: 6, periodMs: 500, clickMs: 20 });
    const delayed = clickTrain({ sampleRate: 16_000, durationS: 6, periodMs: 500, clickMs: 20, startS: 0.5 + 0.0813 });
    const recording = delayed.samples.map((v) => -0.3 * v);

    const estimate = estimateDelays(recording, 16_000, sent.offsetsS, { maxDelayS: 0.25, click: { clickMs: 20 } });

    expect(estimate.found).toBe(sent.offsetsS.length);
    expect(Math.abs(estimate.medianS! * 1000 - 81.3)).toBeLessThan(0.5);
    expect(Math.abs(estimate.minS! * 1000 - 81.3)).toBeLessThan(0.5);
    expect(Math.abs(estimate.maxS! * 1000 - 81.3)).toBeLessThan(0.5);
  });

  it('detects nothing in pure noise or in silence', () => {
    const noise = gaussian(random(9));
    const sent = clickTrain({ sampleRate: rate, durationS: 12, periodMs: 400, clickMs: 15 });

    const inNoise = estimateDelays(sent.samples.map(() => 0.1 * noise()), rate, sent.offsetsS, { maxDelayS: 0.3 });
    const inSilence = estimateDelays(new Float32Array(sent.samples.length), rate, sent.offsetsS, { maxDelayS: 0.3 });

    expect(inNoise.found).toBe(0);
    expect(inNoise.missing).toBe(sent.offsetsS.length);
    expect(inNoise.medianS).toBeUndefined();
    expect(Math.max(...inNoise.clicks.map((c) => c.score))).toBeLessThan(0.5);
    expect(inSilence.found).toBe(0);
  });

  it('tells clicks whose window lies beyond the recording from lost ones', () => {
    const sent = clickTrain({ sampleRate: rate, durationS: 4, periodMs: 400, clickMs: 15 });
    const shorter = sent.samples.subarray(0, 2 * rate);

    const estimate = estimateDelays(shorter, rate, sent.offsetsS, { maxDelayS: 0.2 });

    expect(estimate.found + estimate.outside).toBe(sent.offsetsS.length);
    expect(estimate.outside).toBeGreaterThan(0);
    expect(estimate.missing).toBe(0);
  });

  it('refuses a search range wider than the spacing of the clicks', () => {
    const sent = clickTrain({ sampleRate: rate, durationS: 2, periodMs: 300, clickMs: 15 });

    expect(() => estimateDelays(sent.samples, rate, sent.offsetsS, { maxDelayS: 0.3 })).toThrow(/cannot be told apart/);
    expect(() => clickTrain({ sampleRate: rate, durationS: 1, periodMs: 10, clickMs: 15 })).toThrow(/longer than a click/);
    expect(() => chirpClick(8000, { toHz: 5000 })).toThrow(/below half/);
  });

  it('spaces clicks from the searched range with a margin, so a recording timeline squeezed by a third still passes', () => {
    const spacing = clickSpacing({ minDelayS: -0.15, maxDelayS: 0.4 }, { margin: 0.5 });
    const train = clickTrain({ sampleRate: rate, durationS: 6, periodMs: spacing.periodMs, startS: 0.2 });
    // a page's timeline whose audio clock ran a third slow: the clicks land closer together than they were played
    const squeezed = train.offsetsS.map((offset) => offset * 0.7);
    const recording = new Float32Array(train.samples.length);
    for (const offset of squeezed) recording.set(chirpClick(rate, {}).map((v) => v * 0.5), Math.round((offset + 0.05) * rate));

    const estimate = estimateDelays(recording, rate, squeezed, spacing);

    expect(spacing.periodMs).toBe(850);
    expect(estimate.found).toBe(train.offsetsS.length);
    expect(estimate.medianS).toBeCloseTo(0.05, 3);
  });

  it('refuses a margin too small to absorb any drift', () => {
    expect(() => clickSpacing({ minDelayS: 0, maxDelayS: 0.3 }, { margin: 0 })).toThrow(RangeError);
  });

  it('writes a stereo 16-bit WAV that reads back as the same signal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-signals-'));
    try {
      const train = clickTrain({ sampleRate: rate, durationS: 1, periodMs: 400, clickMs: 15 });
      const path = join(dir, 'clicks.wav');

      await writeStereoWav16(path, train.samples, rate);
      const bytes = await readFile(path);
      const pcm = parseWav(bytes);

      expect(bytes.readUInt16LE(22)).toBe(2); // channels
      expect(bytes.readUInt32LE(24)).toBe(rate);
      expect(bytes.readUInt16LE(34)).toBe(16); // bits per sample
      expect(pcm.samples).toHaveLength(train.samples.length);
      expect(pcm.samples.every((v, i) => Math.abs(v - train.samples[i]!) < 2 / 32768)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
