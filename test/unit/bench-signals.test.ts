import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWav } from '../../lab/audio-analysis.js';
import {
  chirpClick,
  clickSpacing,
  clickTrain,
  estimateDelays,
  recoveredDelay,
  writeStereoWav16,
} from '../../bench/lib/signals.js';
import { estimateScheduledDelays } from '../../bench/lib/scheduled-delays.js';

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

/**
 * A recording of clicks sent at `emittedAtMs` (epoch ms) that arrive `delayMs` later (plus `jitterMs` of uniform
 * noise per click), made by a recorder whose clock runs at `scale` recording seconds per wall second and whose first
 * sample is at wall time `startAt`. Each click keeps its shape (a jitter buffer stretches the audio between them).
 */
function skewedRecording(options: {
  emittedAtMs: readonly number[];
  /** One-way delay in ms, or the delay of a click sent at a given wall time. */
  delayMs: number | ((sentAt: number) => number);
  click?: { fromHz: number; toHz: number };
  into?: Float32Array;
  scale: number;
  startAt: number;
  durationS: number;
  jitterMs?: number;
  drop?: readonly number[];
  noise?: number;
  seed?: number;
}): Float32Array {
  const next = random(options.seed ?? 1);
  const noise = gaussian(next);
  const recording = options.into ?? new Float32Array(Math.round(options.durationS * rate));
  if (options.noise !== undefined) for (let i = 0; i < recording.length; i++) recording[i] = recording[i]! + options.noise * noise();
  const click = chirpClick(rate, options.click ?? {}, { amplitude: 0.4 });
  const delayOf = typeof options.delayMs === 'number' ? () => options.delayMs as number : options.delayMs;
  options.emittedAtMs.forEach((at, k) => {
    if (options.drop?.includes(k)) return;
    const jitter = (options.jitterMs ?? 0) * (2 * next() - 1);
    const position = Math.round(((at + delayOf(at) + jitter - options.startAt) / 1000) * options.scale * rate);
    for (let i = 0; i < click.length && position + i < recording.length; i++) {
      if (position + i >= 0) recording[position + i] = recording[position + i]! + click[i]!;
    }
  });
  return recording;
}

describe('delay estimation with a recording clock off pace', () => {
  const startAt = 1_800_000_000_000;
  /** 50 clicks sent 600 ms apart from 1 s into the recording, on the sender's wall clock. */
  const emittedAtMs = Array.from({ length: 50 }, (_, k) => startAt + 1_000 + k * 600);
  const window = { minDelayS: -0.15, maxDelayS: 0.4 } as const;

  it.each([0.85, 0.87, 0.91, 1, 1.09, 1.15])(
    'recovers an 80 ms delay within 1 ms when the recording clock runs at %f of the sender pace (end-anchored)',
    (scale) => {
      const durationS = 33 * scale;
      const recording = skewedRecording({ emittedAtMs, delayMs: 80, scale, startAt, durationS, noise: 0.005 });
      // like a phone's recording: only its last write is stamped
      const timeline = { anchors: [[durationS, startAt + (durationS / scale) * 1000]] as const };

      const estimate = estimateScheduledDelays(recording, rate, emittedAtMs, timeline, window);

      expect(estimate.fit?.scale).toBeCloseTo(scale, 3);
      expect(estimate.found).toBe(emittedAtMs.length);
      expect(Math.abs(estimate.medianS! * 1000 - 80)).toBeLessThan(1);
      expect(Math.abs(estimate.maxS! * 1000 - 80)).toBeLessThan(1);
      expect(Math.abs(estimate.minS! * 1000 - 80)).toBeLessThan(1);
    },
  );

  it('the fixed-window method cannot separate the same clicks mapped at the nominal pace (the failure it replaces)', () => {
    const scale = 0.853;
    const expected = emittedAtMs.map((at) => ((at - startAt) / 1000) * scale);

    expect(() => estimateDelays(new Float32Array(33 * rate), rate, expected, window)).toThrow(/511\.8 ms apart cannot be told apart/);
  });

  it('uses a page recording’s wall-stamped anchors, and recovers a delay through jitter, noise and lost clicks', () => {
    const scale = 0.88;
    const durationS = 33 * scale;
    const drop = [4, 5, 20, 41];
    const recording = skewedRecording({ emittedAtMs, delayMs: 137, scale, startAt, durationS, jitterMs: 4, drop, noise: 0.02, seed: 7 });
    // like a page's recording: a [seconds, wall ms] anchor about every 100 ms, each up to 3 ms late
    const next = random(3);
    const anchors: [number, number][] = [];
    for (let s = 0.1; s < durationS; s += 0.1) anchors.push([s, startAt + (s / scale) * 1000 + 3 * next()]);

    const estimate = estimateScheduledDelays(recording, rate, emittedAtMs, { anchors }, window);

    expect(estimate.missing).toBe(drop.length);
    expect(estimate.clicks.filter((c) => c.status === 'missing').map((c) => c.index)).toEqual(drop);
    expect(Math.abs(estimate.medianS! * 1000 - 137 - 1.5)).toBeLessThan(2);
    expect(estimate.fit!.rmsResidualS).toBeLessThan(0.004);
  });

  it('tells one period from the next by the plausible delay window', () => {
    // a delay of 500 ms looks like −100 ms a period later; the window says which
    const recording = skewedRecording({ emittedAtMs, delayMs: 500, scale: 1.1, startAt, durationS: 36 });
    const timeline = { anchors: [[36, startAt + (36 / 1.1) * 1000]] as const };

    const late = estimateScheduledDelays(recording, rate, emittedAtMs, timeline, { minDelayS: 0.2, maxDelayS: 0.7 });
    const early = estimateScheduledDelays(recording, rate, emittedAtMs, timeline, { minDelayS: -0.3, maxDelayS: 0.2 });

    expect(Math.abs(late.medianS! * 1000 - 500)).toBeLessThan(1);
    expect(late.found).toBe(emittedAtMs.length);
    expect(Math.abs(early.medianS! * 1000 + 100)).toBeLessThan(1);
  });

  it('finds nothing in noise, and refuses clicks too close for the skew and window searched', () => {
    const noise = gaussian(random(11));
    const recording = new Float32Array(10 * rate).map(() => 0.1 * noise());
    const anchors = [[10, startAt + 10_000]] as const;
    const close = Array.from({ length: 10 }, (_, k) => startAt + k * 300);

    const estimate = estimateScheduledDelays(recording, rate, emittedAtMs.slice(0, 15), { anchors }, window);

    expect(estimate.fit).toBeUndefined();
    expect(estimate.found).toBe(0);
    expect(estimate.medianS).toBeUndefined();
    expect(() => estimateScheduledDelays(recording, rate, close, { anchors }, window)).toThrow(/cannot be told apart/);
    expect(() => estimateScheduledDelays(recording, rate, emittedAtMs, { anchors: [] }, window)).toThrow(/anchor/);
  });

  it('recovers a known 100 ms added to interleaved falling chirps within 3 ms, while the path delay drifts 300 ms', () => {
    const scale = 0.9;
    const durationS = 33 * scale;
    // a jitter buffer growing from 80 to 380 ms over the call
    const drift = (sentAt: number) => 80 + (300 * (sentAt - startAt)) / 31_000;
    const falling = { fromHz: 3000, toHz: 500 } as const;
    const calibrationAtMs = emittedAtMs.map((at) => at + 300);
    const recording = skewedRecording({ emittedAtMs, delayMs: drift, scale, startAt, durationS, noise: 0.005, jitterMs: 2 });
    skewedRecording({ emittedAtMs: calibrationAtMs, delayMs: (at) => drift(at) + 100, click: falling, into: recording, scale, startAt, durationS });
    const timeline = { anchors: [[durationS, startAt + (durationS / scale) * 1000]] as const };

    // the delays reach 480 ms: the window must hold them (a delay beyond it is taken for one a period shorter)
    const wide = { minDelayS: 0, maxDelayS: 0.55 };
    const plain = estimateScheduledDelays(recording, rate, emittedAtMs, timeline, wide);
    const delayed = estimateScheduledDelays(recording, rate, calibrationAtMs, timeline, { ...wide, click: falling });
    const recovered = recoveredDelay(plain, delayed);

    // each detector sees only its own clicks
    expect(plain.found).toBe(emittedAtMs.length);
    expect(delayed.found).toBe(calibrationAtMs.length);
    expect(recovered?.pairs).toBe(emittedAtMs.length);
    // the path itself drifts 2.9 ms in the 300 ms between neighbours: "within a few ms" is what a pair can tell
    expect(Math.abs(recovered!.medianS * 1000 - 100)).toBeLessThan(3);
  });

  it('does not take falling chirps for rising ones', () => {
    const falling = { fromHz: 3000, toHz: 500 } as const;
    const recording = skewedRecording({ emittedAtMs, delayMs: 50, click: falling, scale: 1, startAt, durationS: 33 });

    const estimate = estimateScheduledDelays(recording, rate, emittedAtMs, { anchors: [[33, startAt + 33_000]] }, window);

    expect(estimate.found).toBe(0);
    expect(estimate.fit).toBeUndefined();
  });
});
