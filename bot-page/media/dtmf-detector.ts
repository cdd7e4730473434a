/**
 * A DTMF detector for decoded audio: Goertzel filters at the eight DTMF frequencies over blocks of 25.6 ms (205
 * samples at 8 kHz) taken every 12.8 ms, a digit when one row and one column tone carry most of a block's energy with
 * little twist, in two blocks in a row (so a 40 ms tone is found, as ITU-T Q.24 asks of a receiver). The same digit
 * counts again only after four blocks without it (a pause of about 30 ms), also when another digit showed for a block
 * or two in between (one tone read wrongly for a moment): a tone broken by a dropout of a few
 * milliseconds (up to about 20 ms: an audio glitch in a busy browser) stays one digit. Input at a multiple of 8 kHz
 * (48 kHz from WebRTC) is averaged down to 8 kHz first: 60 s of audio cost about 80 ms of CPU on the lab machine. Pure
 * code (no DOM): it runs inside an AudioWorklet on the SIP leg's audio, and in unit tests on synthetic signals.
 */

/** Name the AudioWorklet processor running the detector registers (dtmf-worklet.ts; dtmf-listener.ts uses it). */
export const DTMF_PROCESSOR = 'roomline-dtmf';

/** The rate digits are looked for at; input at a multiple of it is averaged down to it. */
const DETECTION_RATE = 8_000;

/** Blocks (of 12.8 ms) without a digit after which the same digit counts again. */
const QUIET_BLOCKS = 4;

const ROWS = [697, 770, 852, 941] as const;
const COLUMNS = [1209, 1336, 1477, 1633] as const;
const KEYS = ['123A', '456B', '789C', '*0#D'] as const;

export interface DtmfDetectorOptions {
  readonly sampleRate: number;
  /** Called once per digit, when it has lasted two blocks; `atSample` counts from the first sample pushed. */
  readonly onDigit: (digit: string, atSample: number) => void;
  /** Weakest tone pair detected, in dBFS (RMS of the block). @default -40 */
  readonly minLevelDbfs?: number;
  /** Share of the block's energy the row and column tones must carry together, 0..1. @default 0.6 */
  readonly minPairShare?: number;
  /** Largest level difference between the row and the column tone, in dB. @default 8 */
  readonly maxTwistDb?: number;
}

interface Goertzel {
  readonly coefficient: number;
}

export class DtmfDetector {
  /** Input samples averaged into one (48 kHz in, 8 kHz detected: six times less work, DTMF lies below 1.7 kHz). */
  private readonly decimation: number;
  private decimated = 0;
  private decimatedSum = 0;
  private readonly blockSize: number;
  private readonly hop: number;
  /** The last `blockSize` samples, oldest first once full. */
  private readonly window: Float32Array;
  private readonly block: Float32Array;
  private filled = 0;
  private sinceBlock = 0;
  private samplesSeen = 0;
  private readonly rows: Goertzel[];
  private readonly columns: Goertzel[];
  private readonly minEnergy: number;
  private readonly minPairShare: number;
  private readonly maxTwist: number;
  /** The digit seen in the last block (or undefined), and whether the current run was reported. */
  private last: string | undefined;
  private reported = false;
  /**
   * The digit reported last, until a pause: a key that comes back after a block or two of another digit (a glitch in
   * the middle of one tone, seen on a starved machine) is the same key press, not a second one.
   */
  private lastReported: string | undefined;
  /** Blocks since the last one holding a digit: the same digit again needs a pause after it. */
  private quietBlocks = QUIET_BLOCKS;

  constructor(private readonly options: DtmfDetectorOptions) {
    const factor = options.sampleRate / DETECTION_RATE;
    this.decimation = Number.isInteger(factor) && factor > 1 ? factor : 1;
    const rate = options.sampleRate / this.decimation;
    this.blockSize = Math.round((rate * 205) / 8000);
    this.hop = Math.floor(this.blockSize / 2);
    this.window = new Float32Array(this.blockSize);
    this.block = new Float32Array(this.blockSize);
    const filter = (frequency: number): Goertzel => {
      const k = Math.round((this.blockSize * frequency) / rate);
      return { coefficient: 2 * Math.cos((2 * Math.PI * k) / this.blockSize) };
    };
    this.rows = ROWS.map(filter);
    this.columns = COLUMNS.map(filter);
    const minRms = 10 ** ((options.minLevelDbfs ?? -40) / 20);
    this.minEnergy = minRms * minRms * this.blockSize;
    this.minPairShare = options.minPairShare ?? 0.6;
    this.maxTwist = 10 ** ((options.maxTwistDb ?? 8) / 10);
  }

  /** Feeds mono samples (-1..1) at the detector's sample rate. */
  push(samples: Float32Array): void {
    for (const input of samples) {
      let sample = input;
      if (this.decimation > 1) {
        this.decimatedSum += input;
        if (++this.decimated < this.decimation) continue;
        sample = this.decimatedSum / this.decimation;
        this.decimated = 0;
        this.decimatedSum = 0;
      }
      this.window[this.filled % this.blockSize] = sample;
      this.filled++;
      this.samplesSeen += this.decimation;
      if (this.filled < this.blockSize || ++this.sinceBlock < this.hop) continue;
      this.sinceBlock = 0;
      // the window in time order
      const start = this.filled % this.blockSize;
      this.block.set(this.window.subarray(start), 0);
      this.block.set(this.window.subarray(0, start), this.blockSize - start);
      this.onBlock(this.classify(this.block));
    }
  }

  private onBlock(digit: string | undefined): void {
    if (digit === undefined) {
      this.quietBlocks++;
      if (this.quietBlocks >= QUIET_BLOCKS) {
        this.last = undefined;
        this.reported = false;
        this.lastReported = undefined;
      }
      return;
    }
    const continuing = digit === this.last;
    this.quietBlocks = 0;
    if (!continuing) {
      // another digit without a gap: a glitch between two blocks of one key, or a new key; count it anew
      this.last = digit;
      this.reported = false;
      return;
    }
    if (!this.reported) {
      this.reported = true;
      if (digit === this.lastReported) return;
      this.lastReported = digit;
      this.options.onDigit(digit, this.samplesSeen);
    }
  }

  /** The digit a block holds, if any. */
  private classify(block: Float32Array): string | undefined {
    let energy = 0;
    for (const sample of block) energy += sample * sample;
    if (energy < this.minEnergy) return undefined;
    const rowPowers = this.rows.map((g) => power(g, block));
    const columnPowers = this.columns.map((g) => power(g, block));
    const row = strongest(rowPowers);
    const column = strongest(columnPowers);
    const rowPower = rowPowers[row] ?? 0;
    const columnPower = columnPowers[column] ?? 0;
    // a sinusoid of energy E over N samples gives a Goertzel power of about E * N / 2
    const share = (rowPower + columnPower) / ((energy * this.blockSize) / 2);
    if (share < this.minPairShare) return undefined;
    if (rowPower > columnPower * this.maxTwist || columnPower > rowPower * this.maxTwist) return undefined;
    // the other tones of each group must be well below the strongest (6 dB)
    if (rowPowers.some((p, i) => i !== row && p * 4 > rowPower)) return undefined;
    if (columnPowers.some((p, i) => i !== column && p * 4 > columnPower)) return undefined;
    return KEYS[row]?.[column];
  }
}

function power(filter: Goertzel, block: Float32Array): number {
  let s1 = 0;
  let s2 = 0;
  for (const sample of block) {
    const s0 = sample + filter.coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - filter.coefficient * s1 * s2;
}

function strongest(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] ?? 0) > (values[best] ?? 0)) best = i;
  return best;
}

/** The two frequencies of a DTMF digit (for tests and test signals). */
export function dtmfFrequencies(digit: string): readonly [number, number] {
  for (let r = 0; r < KEYS.length; r++) {
    const c = KEYS[r]!.indexOf(digit.toUpperCase());
    if (c >= 0) return [ROWS[r]!, COLUMNS[c]!];
  }
  throw new Error(`not a DTMF digit: ${digit}`);
}
