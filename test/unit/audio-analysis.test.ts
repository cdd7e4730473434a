import { describe, expect, it } from 'vitest';
import { analyseTone, encodeWav, hasTone, longestGap, longestGapS, parseWav, timelineOf, toneShare, toneSpanS } from '../../lab/audio-analysis.js';

function tone(hz: number, amplitude: number, seconds: number, rate = 48_000, silenceS = 0): Float32Array {
  const samples = new Float32Array(Math.round((seconds + silenceS) * rate));
  const start = Math.round(silenceS * rate);
  for (let i = start; i < samples.length; i++) samples[i] = amplitude * Math.sin((2 * Math.PI * hz * (i - start)) / rate);
  return samples;
}

describe('audio analysis', () => {
  it('measures the longest silence inside a sound, and only between the times asked', () => {
    const samples = tone(440, 0.25, 2);
    samples.fill(0, 48_000, 48_000 + 4_800); // 100 ms cut at 1 s
    samples.fill(0, 0, 2_400); // 50 ms before the sound starts
    const pcm = { sampleRate: 48_000, samples };

    expect(longestGapS(pcm)).toBeCloseTo(0.1, 2);
    expect(longestGapS(pcm, 0, 0.9)).toBeCloseTo(0.05, 2);
    expect(longestGapS(pcm, 1.2)).toBe(0);
    expect(longestGap(pcm, 0.5).atS).toBeCloseTo(1, 2);
    expect(longestGap(pcm, 1.2).atS).toBeUndefined();
  });

  it('finds where a tone is heard in a recording of another one', () => {
    const a = tone(440, 0.2, 3);
    const b = tone(660, 0.2, 1);
    a.forEach((v, i) => {
      const j = i - 48_000; // 660 Hz from 1 s to 2 s
      if (j >= 0 && j < b.length) a[i] = v + b[j]!;
    });
    const span = toneSpanS({ sampleRate: 48_000, samples: a }, 660);

    expect(span?.fromS).toBeCloseTo(1, 1);
    expect(span?.toS).toBeCloseTo(1.9, 1);
    expect(toneSpanS({ sampleRate: 48_000, samples: tone(440, 0.2, 1) }, 660)).toBeUndefined();
  });

  it('tells how much of a mix each tone is', () => {
    const a = tone(440, 0.2, 1);
    const b = tone(660, 0.2, 1);
    const mix = a.map((v, i) => v + b[i]!);

    expect(toneShare({ sampleRate: 48_000, samples: mix }, 440)).toBeGreaterThan(0.4);
    expect(toneShare({ sampleRate: 48_000, samples: mix }, 660)).toBeGreaterThan(0.4);
    expect(toneShare({ sampleRate: 48_000, samples: a }, 660)).toBeLessThan(0.01);
  });

  it('finds a tone, its level and where it starts after silence', () => {
    const report = analyseTone({ sampleRate: 48_000, samples: tone(440, 0.25, 1, 48_000, 0.5) });

    expect(report.frequencyHz).toBeCloseTo(440, 0);
    expect(report.levelDbfs).toBeCloseTo(-15.1, 0);
    expect(report.purity).toBeGreaterThan(0.95);
    expect(report.onsetS).toBeCloseTo(0.5, 1);
    expect(hasTone(report, 440)).toBe(true);
    expect(hasTone(report, 1000)).toBe(false);
  });

  it('reports silence as nothing heard', () => {
    const report = analyseTone({ sampleRate: 16_000, samples: new Float32Array(16_000) });

    expect(report.onsetS).toBeUndefined();
    expect(hasTone(report, 440)).toBe(false);
  });

  it('does not call noise a tone', () => {
    const noise = new Float32Array(48_000).map(() => (Math.random() - 0.5) * 0.5);

    expect(hasTone(analyseTone({ sampleRate: 48_000, samples: noise }), 440)).toBe(false);
  });

  it('reads back a stereo 16-bit WAV it wrote, averaging the channels', () => {
    const samples = tone(1000, 0.5, 0.5, 16_000);

    const pcm = parseWav(encodeWav(samples, 16_000, 2));

    expect(pcm.sampleRate).toBe(16_000);
    expect(pcm.samples.length).toBe(samples.length);
    expect(analyseTone(pcm).frequencyHz).toBeCloseTo(1000, 0);
  });

  it('places wall-clock times in a recording whose audio clock runs slow, between its anchors', () => {
    // 48 kHz nominal, but the recording got only 47 900 samples per wall second
    const anchors = [0, 1, 2, 3].map((k) => [k * 47_900, 1_000_000 + k * 1000] as const);
    const at = timelineOf(anchors, 48_000, 1_000_000);

    expect(at(1_002_500)).toBeCloseTo((2.5 * 47_900) / 48_000, 6);
    expect(at(1_000_000)).toBe(0);
    // beyond the last anchor: at the rate measured last
    expect(at(1_004_000)).toBeCloseTo((4 * 47_900) / 48_000, 6);
    expect(timelineOf([[480, 1_000_000]], 48_000, 1_000_000)(1_000_500)).toBeCloseTo((480 + 24_000) / 48_000, 6);
  });
});
