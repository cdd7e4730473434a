import type { VideoLayout } from '../../contracts/dial-request.js';
import { FramePacer, FrameSink, readFrames } from './video-frames.js';

export interface VideoCaps {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** Active-speaker switching: how loud, for how long, and how long a speaker keeps the picture at least. */
export const SPEAKER_SWITCH = {
  /** A candidate must be this much louder than the current speaker (ratio of smoothed RMS, 2 = +6 dB). */
  ratio: 2,
  /** Below this smoothed RMS nobody counts as speaking (about -46 dBFS). */
  floor: 0.005,
  /** The candidate must lead for this long before the picture switches. */
  holdMs: 800,
  /** A speaker keeps the picture at least this long. */
  minDwellMs: 1_500,
  /** How often levels are read. */
  pollMs: 100,
} as const;

interface Source {
  readonly id: string;
  readonly track: MediaStreamTrack;
  readonly reader: { stop(): void };
  /** Latest frame (grid); owned here until replaced or drawn. */
  latest: VideoFrame | undefined;
  frames: number;
}

/**
 * Room → SIP video: one picture from the room's video tracks, either the active speaker (chosen from audio levels,
 * with hysteresis) or a grid of everyone, at the requested size and frame rate. A frame that already has the output
 * size is passed on without a copy; others are drawn (scaled, letterboxed) once onto the output canvas. A source that
 * stalls only freezes its own part of the picture.
 */
export class RoomVideoComposer {
  readonly output = new FrameSink();
  private readonly sources = new Map<string, Source>();
  private readonly smoothed = new Map<string, number>();
  private readonly canvas: OffscreenCanvas;
  private readonly context: OffscreenCanvasRenderingContext2D;
  private active: string | undefined;
  private activeSince = 0;
  private challenger: { id: string; since: number } | undefined;
  private lastOutputAt = 0;
  private readonly pacer: FramePacer;
  private timers: ReturnType<typeof setInterval>[] = [];
  private stopped = false;
  private readonly sourceListeners: Array<() => void> = [];
  switches = 0;

  constructor(
    private readonly layout: VideoLayout,
    private readonly caps: VideoCaps,
    /** Current audio level (RMS 0..1) of each participant, by participant id. */
    private readonly levels: () => Map<string, number>,
  ) {
    this.pacer = new FramePacer(caps.fps);
    this.canvas = new OffscreenCanvas(caps.width, caps.height);
    const context = this.canvas.getContext('2d', { alpha: false });
    if (context === null) throw new Error('no 2D context for video composition');
    this.context = context;
  }

  get activeSpeaker(): string | undefined {
    return this.active;
  }

  /** The one room track the picture shows whole, when there is exactly one (its frames could be forwarded as they came). */
  soleTrack(): MediaStreamTrack | undefined {
    if (this.sources.size !== 1) return undefined;
    return this.sources.values().next().value?.track;
  }

  /** Called whenever a picture source comes or goes. */
  onSourcesChanged(listener: () => void): void {
    this.sourceListeners.push(listener);
  }

  start(): void {
    const frameMs = 1000 / this.caps.fps;
    if (this.layout === 'grid') {
      this.timers.push(setInterval(() => this.drawGrid(), frameMs));
    } else {
      this.timers.push(setInterval(() => this.chooseSpeaker(), SPEAKER_SWITCH.pollMs));
      // with no picture to pass on, a slate keeps the SIP side's video alive
      this.timers.push(setInterval(() => this.slateIfIdle(), 500));
    }
  }

  addParticipant(id: string, track: MediaStreamTrack): void {
    this.removeParticipant(id);
    const source: Source = {
      id,
      track,
      latest: undefined,
      frames: 0,
      reader: readFrames(track, (frame) => this.onFrame(source, frame)),
    };
    this.sources.set(id, source);
    if (this.active === undefined) this.switchTo(id);
    for (const listener of this.sourceListeners) listener();
  }

  /** Removes `id`'s picture if it still comes from `track` (a newer track of the same participant stays). */
  removeTrack(id: string, track: MediaStreamTrack): void {
    if (this.sources.get(id)?.track === track) this.removeParticipant(id);
  }

  removeParticipant(id: string): void {
    const source = this.sources.get(id);
    if (source === undefined) return;
    source.reader.stop();
    source.latest?.close();
    this.sources.delete(id);
    this.smoothed.delete(id);
    if (this.active === id) this.switchTo(this.sources.keys().next().value);
    if (!this.stopped) for (const listener of this.sourceListeners) listener();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const id of [...this.sources.keys()]) this.removeParticipant(id);
    this.output.close();
  }

  private onFrame(source: Source, frame: VideoFrame): void {
    source.frames++;
    if (this.stopped) {
      frame.close();
      return;
    }
    if (this.layout === 'grid') {
      source.latest?.close();
      source.latest = frame;
      return;
    }
    if (source.id !== this.active || !this.pacer.admit(performance.now())) {
      frame.close();
      return;
    }
    this.emit(frame);
  }

  /** Passes a frame of the output size on as it is (new timestamp only), or draws it scaled; takes the frame over. */
  private emit(frame: VideoFrame): void {
    this.lastOutputAt = performance.now();
    const timestamp = Math.round(this.lastOutputAt * 1000);
    if (frame.displayWidth === this.caps.width && frame.displayHeight === this.caps.height) {
      const restamped = new VideoFrame(frame, { timestamp });
      frame.close();
      this.output.write(restamped);
      return;
    }
    this.context.fillStyle = '#000';
    this.context.fillRect(0, 0, this.caps.width, this.caps.height);
    drawFitted(this.context, frame, 0, 0, this.caps.width, this.caps.height);
    frame.close();
    this.output.write(new VideoFrame(this.canvas, { timestamp }));
  }

  private slateIfIdle(): void {
    if (this.stopped || performance.now() - this.lastOutputAt < 1_000) return;
    this.lastOutputAt = performance.now();
    this.context.fillStyle = '#000';
    this.context.fillRect(0, 0, this.caps.width, this.caps.height);
    this.output.write(new VideoFrame(this.canvas, { timestamp: Math.round(this.lastOutputAt * 1000) }));
  }

  private drawGrid(): void {
    if (this.stopped) return;
    const sources = [...this.sources.values()];
    const { width, height } = this.caps;
    this.context.fillStyle = '#000';
    this.context.fillRect(0, 0, width, height);
    const cols = Math.max(1, Math.ceil(Math.sqrt(sources.length)));
    const rows = Math.max(1, Math.ceil(sources.length / cols));
    const cellW = Math.floor(width / cols);
    const cellH = Math.floor(height / rows);
    sources.forEach((source, i) => {
      if (source.latest === undefined) return;
      drawFitted(this.context, source.latest, (i % cols) * cellW, Math.floor(i / cols) * cellH, cellW, cellH);
    });
    this.lastOutputAt = performance.now();
    this.output.write(new VideoFrame(this.canvas, { timestamp: Math.round(this.lastOutputAt * 1000) }));
  }

  /** Active speaker with hysteresis: a louder participant must lead by SPEAKER_SWITCH.ratio for holdMs. */
  private chooseSpeaker(): void {
    const now = performance.now();
    for (const [id, level] of this.levels()) {
      if (!this.sources.has(id)) continue;
      const previous = this.smoothed.get(id) ?? 0;
      this.smoothed.set(id, previous * 0.6 + level * 0.4);
    }
    let loudest: string | undefined;
    for (const id of this.sources.keys()) {
      if (loudest === undefined || (this.smoothed.get(id) ?? 0) > (this.smoothed.get(loudest) ?? 0)) loudest = id;
    }
    if (loudest === undefined || loudest === this.active) {
      this.challenger = undefined;
      return;
    }
    const current = this.active === undefined ? 0 : (this.smoothed.get(this.active) ?? 0);
    const candidate = this.smoothed.get(loudest) ?? 0;
    if (candidate < SPEAKER_SWITCH.floor || candidate < current * SPEAKER_SWITCH.ratio) {
      this.challenger = undefined;
      return;
    }
    if (this.challenger?.id !== loudest) this.challenger = { id: loudest, since: now };
    if (now - this.challenger.since >= SPEAKER_SWITCH.holdMs && now - this.activeSince >= SPEAKER_SWITCH.minDwellMs) {
      this.switchTo(loudest);
    }
  }

  private switchTo(id: string | undefined): void {
    if (id === this.active) return;
    this.active = id;
    this.activeSince = performance.now();
    this.challenger = undefined;
    this.switches++;
  }
}

/** Draws `frame` into the box keeping its aspect ratio (letterbox or pillarbox). */
function drawFitted(
  context: OffscreenCanvasRenderingContext2D,
  frame: VideoFrame,
  x: number,
  y: number,
  width: number,
  height: number,
): void {
  const scale = Math.min(width / frame.displayWidth, height / frame.displayHeight);
  const w = Math.round(frame.displayWidth * scale);
  const h = Math.round(frame.displayHeight * scale);
  context.drawImage(frame, x + Math.floor((width - w) / 2), y + Math.floor((height - h) / 2), w, h);
}
