import { describe, expect, it } from 'vitest';
import { DtmfDetector, dtmfFrequencies } from '../../bot-page/media/dtmf-detector.js';

const RATE = 8_000;

/** A signal of DTMF digits, each `toneMs` long at `level` (peak per tone), separated by `gapMs` of `background`. */
function dtmfSignal(
  digits: string,
  options: { toneMs?: number; gapMs?: number; level?: number; background?: (i: number) => number; rate?: number } = {},
): Float32Array {
  const rate = options.rate ?? RATE;
  const tone = Math.round(((options.toneMs ?? 100) * rate) / 1000);
  const gap = Math.round(((options.gapMs ?? 70) * rate) / 1000);
  const level = options.level ?? 0.25;
  const out = new Float32Array(gap + digits.length * (tone + gap));
  let at = gap;
  for (const digit of digits) {
    const [low, high] = dtmfFrequencies(digit);
    for (let i = 0; i < tone; i++) {
      const t = i / rate;
      out[at + i] = level * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t));
    }
    at += tone + gap;
  }
  if (options.background !== undefined) for (let i = 0; i < out.length; i++) out[i]! += options.background(i);
  return out;
}

function detect(signal: Float32Array, rate = RATE, chunk = 128): string {
  let digits = '';
  const detector = new DtmfDetector({ sampleRate: rate, onDigit: (digit) => (digits += digit) });
  // in render quanta, as an AudioWorklet delivers them
  for (let i = 0; i < signal.length; i += chunk) detector.push(signal.subarray(i, i + chunk));
  return digits;
}

/** Deterministic noise in -1..1. */
function noise(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (x / 2_147_483_648) * 2 - 1;
  };
}

describe('DTMF detector', () => {
  it('finds every digit of the keypad, once each, in order', () => {
    const digits = '1234567890*#ABCD';

    const found = detect(dtmfSignal(digits));

    expect(found).toBe(digits);
  });

  it('finds digits of the shortest duration and gap phones send (50 ms each)', () => {
    expect(detect(dtmfSignal('2580', { toneMs: 50, gapMs: 50 }))).toBe('2580');
  });

  it('reports a repeated digit once per key press, and a long press once', () => {
    expect(detect(dtmfSignal('1111', { toneMs: 80, gapMs: 60 }))).toBe('1111');
    expect(detect(dtmfSignal('5', { toneMs: 2_000 }))).toBe('5');
  });

  it('keeps a digit broken by a 20 ms dropout (an audio glitch) as one digit', () => {
    const signal = dtmfSignal('8', { toneMs: 200 });
    const at = Math.round(0.07 * RATE + 0.1 * RATE);
    signal.fill(0, at, at + Math.round(0.02 * RATE));

    expect(detect(signal)).toBe('8');
  });

  it('keeps a digit as one when 25 ms of its middle read as another key (a glitch on a starved machine)', () => {
    // Prepare: a 200 ms "4" whose middle 25 ms are the tones of "7"
    const signal = dtmfSignal('4', { toneMs: 200 });
    const glitch = dtmfSignal('7', { toneMs: 25, gapMs: 0 });
    signal.set(glitch, Math.round(0.07 * RATE + 0.08 * RATE));

    // Act
    const found = detect(signal);

    // Assess: the "4" once (a 25 ms burst is too short to be a key of its own)
    expect(found).toBe('4');
  });

  it('finds digits over a steady 1000 Hz tone and noise 20 dB below them', () => {
    const n = noise(7);
    const background = (i: number) => 0.05 * Math.sin((2 * Math.PI * 1000 * i) / RATE) + 0.02 * n();

    expect(detect(dtmfSignal('9*0#', { background }))).toBe('9*0#');
  });

  it('works on audio at 48 kHz as well', () => {
    expect(detect(dtmfSignal('147', { rate: 48_000 }), 48_000)).toBe('147');
  });

  it('hears nothing in silence, noise, a single tone, a chord of two row tones or a sweep', () => {
    const n = noise(3);
    const signals = {
      silence: new Float32Array(RATE),
      noise: Float32Array.from({ length: RATE }, () => 0.3 * n()),
      tone: Float32Array.from({ length: RATE }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE)),
      rowChord: Float32Array.from(
        { length: RATE },
        (_, i) => 0.25 * (Math.sin((2 * Math.PI * 697 * i) / RATE) + Math.sin((2 * Math.PI * 852 * i) / RATE)),
      ),
      sweep: Float32Array.from({ length: 2 * RATE }, (_, i) => {
        const t = i / RATE;
        return 0.5 * Math.sin(2 * Math.PI * (300 * t + 400 * t * t));
      }),
    };

    for (const [name, signal] of Object.entries(signals)) expect(detect(signal), name).toBe('');
  });

  it('ignores digits quieter than its threshold (-40 dBFS)', () => {
    expect(detect(dtmfSignal('123', { level: 0.004 }))).toBe('');
  });
});
