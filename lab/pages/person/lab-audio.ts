import { clickTrain, type ClickShape } from './clicks.js';
import { playMuted } from '../../../bot-page/media/play-muted.js';

/**
 * The audio of a simulated end of a call in the lab (a room person, or the direct-call baseline): a voice (a steady
 * tone, or a click train for delay measurements) sent as a track, and a recorder of everything heard. Each recorded
 * block is stamped with the wall time it arrived: a headless audio clock does not keep pace with the wall clock over
 * minutes, so a recording's timeline is anchored near the part asked for, not at the start.
 */
export interface Recording {
  readonly sampleRate: number;
  /** Mono 16-bit PCM, base64. */
  readonly pcmBase64: string;
  /** Epoch ms of the first returned sample. */
  readonly startedAt: number;
  /** Points of the timeline: [sample index, epoch ms], about every 100 ms, for a wall-time ↔ sample mapping. */
  readonly anchors: readonly (readonly [number, number])[];
}

/** Clicks scheduled on the voice: when each will leave the page, in epoch ms (final once they were played). */
export interface ClicksPlayed {
  readonly clickTimes: readonly number[];
  /** The calibration train's clicks, as they entered its DelayNode; empty without one. */
  readonly delayedClickTimes: readonly number[];
}

/** A click train to play: its length and period, and optionally a calibration train interleaved with it. */
export interface ClickOptions {
  readonly durationS: number;
  readonly periodMs: number;
  readonly shape?: ClickShape;
  /**
   * A second train of clicks of another shape (e.g. a falling chirp, which a rising one's detector does not see),
   * each half a period after a click of the first, sent through a WebAudio `DelayNode` of `addedDelayMs`. Their
   * reported times are those before the delay, so on any path their measured delay exceeds that of their neighbours in
   * the first train by exactly `addedDelayMs`: a calibration of the measuring method, click by click.
   * @default none
   */
  readonly delayed?: { readonly addedDelayMs: number; readonly shape: ClickShape };
}

/** Longest delay a calibration train may add, in ms. */
export const MAX_ADDED_DELAY_MS = 1_000;

/** How much of what was heard is kept, in seconds. */
const MAX_RECORDING_S = 120;

const RECORDER_WORKLET = `
class Recorder extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor('roomline-recorder', Recorder);
`;

export class LabAudio {
  readonly context = new AudioContext({ sampleRate: 48_000 });
  private readonly heard = this.context.createGain();
  private readonly speaker = this.context.createMediaStreamDestination();
  private readonly voice = this.context.createGain();
  private readonly chunks: { samples: Float32Array; arrivedAt: number }[] = [];
  private kept = 0;
  private voiceLevel = 0.25;
  private tone: OscillatorNode | undefined;
  private recorder: AudioWorkletNode | undefined;
  /** Audio clock against wall clock, every 100 ms: the two drift apart in a headless browser. */
  private readonly clock: { context: number; wall: number }[] = [];
  private lastClicks: { at: number; offsetsS: readonly number[]; delayedOffsetsS: readonly number[] } | undefined;

  /** Starts the recorder and a tone of `toneHz` at `level` (0..1). */
  async start(toneHz: number, level = 0.25): Promise<void> {
    await this.context.resume();
    const url = URL.createObjectURL(new Blob([RECORDER_WORKLET], { type: 'text/javascript' }));
    await this.context.audioWorklet.addModule(url);
    this.recorder = new AudioWorkletNode(this.context, 'roomline-recorder');
    this.recorder.port.onmessage = (event: MessageEvent<Float32Array>) => this.record(event.data);
    this.heard.connect(this.recorder);
    this.voiceLevel = level;
    this.voice.gain.value = level;
    this.voice.connect(this.speaker);
    this.tone = this.context.createOscillator();
    this.tone.frequency.value = toneHz;
    this.tone.connect(this.voice);
    this.tone.start();
    setInterval(() => {
      const stamp = this.context.getOutputTimestamp();
      if (stamp.contextTime === undefined || stamp.performanceTime === undefined) return;
      this.clock.push({
        context: stamp.contextTime,
        wall: performance.timeOrigin + stamp.performanceTime - this.context.outputLatency * 1000,
      });
      if (this.clock.length > 3_000) this.clock.splice(0, 1_000);
    }, 100);
  }

  /** What this end says, as a track to publish or send. */
  get voiceTrack(): MediaStreamTrack | undefined {
    return this.speaker.stream.getAudioTracks()[0];
  }

  /** Adds a remote audio track to what is heard (played by a muted element: Chromium decodes only what plays). */
  hear(track: MediaStreamTrack): void {
    playMuted(track);
    this.context.createMediaStreamSource(new MediaStream([track])).connect(this.heard);
  }

  /**
   * Stops or resumes recording (a measurement of the page's own cost should not count the recorder). The timeline
   * restarts on resume: what was heard before is dropped.
   */
  setRecording(on: boolean): void {
    if (this.recorder === undefined) return;
    if (on) {
      this.chunks.length = 0;
      this.kept = 0;
      this.heard.connect(this.recorder);
    } else {
      this.heard.disconnect(this.recorder);
    }
  }

  /** Turns the tone on or off (who is speaking). */
  speak(on: boolean): void {
    this.voice.gain.setValueAtTime(on ? this.voiceLevel : 0, this.context.currentTime);
  }

  /**
   * Replaces the tone by a click train (same clicks as the delay analysis looks for), starting in 200 ms. The times
   * returned are estimates; ask `clicksPlayed()` once the train is over for times from the clock around each click.
   */
  playClicks(options: ClickOptions): ClicksPlayed {
    const addedDelayMs = options.delayed?.addedDelayMs ?? 0;
    if (!(addedDelayMs >= 0 && addedDelayMs <= MAX_ADDED_DELAY_MS)) {
      throw new RangeError(`addedDelayMs must be within 0..${MAX_ADDED_DELAY_MS}, got ${addedDelayMs}`);
    }
    this.tone?.disconnect();
    const level = this.voice.gain.value;
    const rate = this.context.sampleRate;
    const base = { sampleRate: rate, durationS: options.durationS, periodMs: options.periodMs };
    const train = clickTrain({ ...base, startS: 0, ...options.shape });
    // silence after the clicks for the added delay, so the last delayed click has left before the tone comes back
    const length = train.samples.length + Math.ceil((addedDelayMs / 1000) * rate);
    const sources = [this.bufferSource(train.samples, length)];
    sources[0]!.connect(this.voice);
    let delayed: typeof train | undefined;
    if (options.delayed !== undefined) {
      delayed = clickTrain({ ...base, startS: options.periodMs / 2000, ...options.delayed.shape });
      const source = this.bufferSource(delayed.samples, length);
      const delay = this.context.createDelay(MAX_ADDED_DELAY_MS / 1000);
      delay.delayTime.value = addedDelayMs / 1000;
      source.connect(delay).connect(this.voice);
      sources.push(source);
    }
    const at = this.context.currentTime + 0.2;
    for (const source of sources) source.start(at);
    this.voice.gain.setValueAtTime(1, at);
    // back to the tone once the clicks are over
    sources[0]!.onended = () => {
      this.voice.gain.setValueAtTime(level, this.context.currentTime);
      this.tone?.connect(this.voice);
    };
    this.lastClicks = { at, offsetsS: train.offsetsS, delayedOffsetsS: delayed?.offsetsS ?? [] };
    return this.clicksPlayed();
  }

  /** When each click of the last train left the page (epoch ms); the calibration train's before its delay. */
  clicksPlayed(): ClicksPlayed {
    const clicks = this.lastClicks;
    if (clicks === undefined) return { clickTimes: [], delayedClickTimes: [] };
    return {
      clickTimes: clicks.offsetsS.map((o) => this.wallTimeOf(clicks.at + o)),
      delayedClickTimes: clicks.delayedOffsetsS.map((o) => this.wallTimeOf(clicks.at + o)),
    };
  }

  private bufferSource(samples: Float32Array, length: number): AudioBufferSourceNode {
    const buffer = this.context.createBuffer(1, length, this.context.sampleRate);
    buffer.getChannelData(0).set(samples);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    return source;
  }

  /**
   * The wall-clock time (epoch ms) at which audio of context time `t` leaves the graph into a track, interpolated
   * between the clock samples around `t` (the output timestamp maps context time to when it reaches the output
   * device; the graph renders that much earlier).
   */
  private wallTimeOf(t: number): number {
    const samples = this.clock;
    if (samples.length === 0) {
      return performance.timeOrigin + performance.now() + (t - this.context.currentTime) * 1000;
    }
    let after = samples.findIndex((s) => s.context >= t);
    if (after === -1) after = samples.length - 1;
    const b = samples[after]!;
    const a = samples[Math.max(0, after - 1)]!;
    if (b.context === a.context) return b.wall + (t - b.context) * 1000;
    return a.wall + ((t - a.context) / (b.context - a.context)) * (b.wall - a.wall);
  }

  /**
   * What was heard from `since` (epoch ms) on, or all that is kept. `startedAt` is the wall time of its first sample:
   * of the estimates the blocks give (arrival minus the audio before it), the earliest, as a block can only arrive
   * late.
   */
  recording(since?: number): Recording {
    const rate = this.context.sampleRate;
    const blocks = this.chunks.filter((c) => since === undefined || c.arrivedAt >= since);
    const total = blocks.reduce((n, c) => n + c.samples.length, 0);
    const pcm = new Int16Array(total);
    let position = 0;
    let startedAt = Infinity;
    for (const block of blocks) {
      for (let i = 0; i < block.samples.length; i++) {
        pcm[position + i] = Math.max(-32768, Math.min(32767, Math.round((block.samples[i] ?? 0) * 32767)));
      }
      position += block.samples.length;
      startedAt = Math.min(startedAt, block.arrivedAt - (position / rate) * 1000);
    }
    // timeline anchors: in each 100 ms of blocks, the earliest-arriving one (a block can only be late)
    const anchors: [number, number][] = [];
    let end = 0;
    let best: [number, number] | undefined;
    for (const block of blocks) {
      end += block.samples.length;
      const estimate = block.arrivedAt - (end / rate) * 1000;
      if (best === undefined || estimate < best[1] - (best[0] / rate) * 1000) best = [end, block.arrivedAt];
      if (anchors.length === 0 || end - (anchors.at(-1)?.[0] ?? 0) >= rate / 10) {
        anchors.push(best);
        best = undefined;
      }
    }
    const bytes = new Uint8Array(pcm.buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return {
      sampleRate: rate,
      pcmBase64: btoa(binary),
      startedAt: Number.isFinite(startedAt) ? startedAt : Date.now(),
      anchors,
    };
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }

  private record(samples: Float32Array): void {
    this.chunks.push({ samples, arrivedAt: performance.timeOrigin + performance.now() });
    this.kept += samples.length;
    // keep the last MAX_RECORDING_S: a lab may run for long
    while (this.kept > MAX_RECORDING_S * this.context.sampleRate && this.chunks.length > 1) {
      this.kept -= this.chunks.shift()!.samples.length;
    }
  }

}
