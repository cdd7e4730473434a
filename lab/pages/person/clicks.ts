/**
 * Click trains for mouth-to-ear delay measurement: the signal, with no Node or DOM imports, so the lab's pages play
 * exactly the clicks the analysis looks for.
 *
 * A click is a linear chirp (500 → 3000 Hz by default) under a Hann window, 15 ms long: inside the band every voice
 * codec keeps (Opus, G.711, G.722), with a sharp correlation peak (about 1 / bandwidth = 0.4 ms wide).
 */

/** The shape of one click. */
export interface ClickShape {
  /** @default 15 */
  readonly clickMs?: number;
  /** @default 500 */
  readonly fromHz?: number;
  /** @default 3000 */
  readonly toHz?: number;
}

/** What `clickTrain` makes. */
export interface ClickTrainOptions extends ClickShape {
  readonly sampleRate: number;
  /** Length of the signal, in seconds. */
  readonly durationS: number;
  /** Time from the start of one click to the start of the next, in milliseconds. */
  readonly periodMs: number;
  /** Where the first click starts, in seconds (any real number ≥ 0, not only whole samples). @default 0.5 */
  readonly startS?: number;
  /** Peak level of a click, 0..1. @default 0.5 (−6 dBFS) */
  readonly amplitude?: number;
}

export interface ClickTrain {
  readonly sampleRate: number;
  /** Mono samples, −1..1. */
  readonly samples: Float32Array;
  /** Where each click starts, in seconds from the start of `samples`. */
  readonly offsetsS: readonly number[];
}

export const DEFAULT_CLICK = { clickMs: 15, fromHz: 500, toHz: 3000 } as const;

/**
 * One click sampled at `sampleRate`.
 *
 * @param options.amplitude peak level, 0..1. @default 1
 * @param options.quadrature the same chirp 90° shifted, as detection uses it. @default false
 * @throws RangeError when the click would be shorter than 16 samples or reach beyond half the sample rate.
 */
export function chirpClick(
  sampleRate: number,
  shape: ClickShape = {},
  options: { readonly amplitude?: number; readonly quadrature?: boolean } = {},
): Float32Array {
  const amplitude = options.amplitude ?? 1;
  const quadrature = options.quadrature ?? false;
  const { length } = resolveShape(sampleRate, shape);
  const click = new Float32Array(length);
  const value = clickFunction(sampleRate, shape, amplitude, quadrature);
  for (let k = 0; k < length; k++) click[k] = value(k / sampleRate);
  return click;
}

/**
 * A train of clicks at a fixed period, and where each click starts.
 *
 * @throws RangeError on a non-positive duration or rate, a period not longer than a click, or a click that does not
 * fit the sample rate.
 */
export function clickTrain(options: ClickTrainOptions): ClickTrain {
  const { sampleRate, durationS, periodMs } = options;
  const startS = options.startS ?? 0.5;
  const amplitude = options.amplitude ?? 0.5;
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  if (!(durationS > 0)) throw new RangeError(`durationS must be above 0, got ${durationS}`);
  if (!(startS >= 0)) throw new RangeError(`startS must be ≥ 0, got ${startS}`);
  if (!(amplitude > 0 && amplitude <= 1)) throw new RangeError(`amplitude must be within (0, 1], got ${amplitude}`);
  const { clickS } = resolveShape(sampleRate, options);
  if (!(periodMs / 1000 > clickS)) throw new RangeError(`periodMs (${periodMs}) must be longer than a click (${clickS * 1000} ms)`);
  const samples = new Float32Array(Math.round(durationS * sampleRate));
  const value = clickFunction(sampleRate, options, amplitude, false);
  const offsetsS: number[] = [];
  for (let k = 0; ; k++) {
    const offsetS = startS + (k * periodMs) / 1000;
    if (offsetS + clickS > durationS) break;
    offsetsS.push(offsetS);
    // each click is computed at its exact start time, so an offset between two samples is honoured
    const first = Math.ceil(offsetS * sampleRate);
    const last = Math.min(samples.length - 1, Math.floor((offsetS + clickS) * sampleRate));
    for (let i = first; i <= last; i++) samples[i] = value(i / sampleRate - offsetS);
  }
  return { sampleRate, samples, offsetsS };
}

export function resolveShape(sampleRate: number, shape: ClickShape): { length: number; clickS: number; fromHz: number; toHz: number } {
  const clickMs = shape.clickMs ?? DEFAULT_CLICK.clickMs;
  const fromHz = shape.fromHz ?? DEFAULT_CLICK.fromHz;
  const toHz = shape.toHz ?? DEFAULT_CLICK.toHz;
  const length = Math.round((clickMs * sampleRate) / 1000);
  if (!(length >= 16)) throw new RangeError(`a click of ${clickMs} ms at ${sampleRate} Hz is under 16 samples`);
  if (!(fromHz > 0 && toHz > 0 && Math.max(fromHz, toHz) < sampleRate / 2)) {
    throw new RangeError(`click frequencies ${fromHz}..${toHz} Hz must be above 0 and below half of ${sampleRate} Hz`);
  }
  return { length, clickS: length / sampleRate, fromHz, toHz };
}

/** The click as a function of time since its start (0 outside it). */
export function clickFunction(sampleRate: number, shape: ClickShape, amplitude: number, quadrature: boolean): (t: number) => number {
  const { clickS, fromHz, toHz } = resolveShape(sampleRate, shape);
  const sweep = (toHz - fromHz) / clickS;
  return (t) => {
    if (t < 0 || t > clickS) return 0;
    const phase = 2 * Math.PI * (fromHz * t + (sweep * t * t) / 2);
    const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / clickS);
    return amplitude * window * (quadrature ? Math.cos(phase) : Math.sin(phase));
  };
}

