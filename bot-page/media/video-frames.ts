/**
 * Helpers around WebCodecs VideoFrames and the Chromium track processor/generator. Every frame that enters one of
 * these helpers is closed exactly once: written to a generator (which takes it over) or closed here.
 */

/** Reads every frame of a video track and hands it to `onFrame`, which owns it; stops when the track ends. */
export function readFrames(track: MediaStreamTrack, onFrame: (frame: VideoFrame) => void): { stop(): void } {
  const processor = new MediaStreamTrackProcessor({ track: track as MediaStreamVideoTrack, maxBufferSize: 2 });
  const reader = processor.readable.getReader();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || value === undefined) break;
      if (stopped) {
        value.close();
        break;
      }
      try {
        onFrame(value);
      } catch {
        value.close();
      }
    }
  })();
  return {
    stop: () => {
      stopped = true;
      void reader.cancel().catch(() => undefined);
    },
  };
}

/** A track whose frames the page writes; writes never queue up behind a slow encoder (late frames are dropped). */
export class FrameSink {
  readonly track: MediaStreamTrack;
  private readonly writer: WritableStreamDefaultWriter<VideoFrame>;
  private pending = false;
  private closed = false;
  framesWritten = 0;
  framesDropped = 0;

  constructor() {
    const generator = new MediaStreamTrackGenerator({ kind: 'video' });
    this.track = generator;
    this.writer = generator.writable.getWriter();
  }

  /** Takes over `frame`: writes it, or closes it when the previous write has not finished yet or the sink is closed. */
  write(frame: VideoFrame): void {
    if (this.closed || this.pending) {
      frame.close();
      this.framesDropped++;
      return;
    }
    this.pending = true;
    this.writer
      .write(frame)
      .then(() => this.framesWritten++)
      .catch(() => frame.close())
      .finally(() => (this.pending = false));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.writer.close().catch(() => undefined);
    this.track.stop();
  }
}

/** Rounds a rectangle to even coordinates and sizes inside `width`×`height` (I420 frames need even offsets). */
export function evenRect(
  rect: { x: number; y: number; width: number; height: number },
  width: number,
  height: number,
): { x: number; y: number; width: number; height: number } {
  const even = (v: number) => Math.max(0, Math.floor(v / 2) * 2);
  const x = Math.min(even(rect.x), Math.max(0, width - 2));
  const y = Math.min(even(rect.y), Math.max(0, height - 2));
  return {
    x,
    y,
    width: Math.max(2, Math.min(even(rect.width), width - x)),
    height: Math.max(2, Math.min(even(rect.height), height - y)),
  };
}

/**
 * Lets at most `fps` frames a second through, on average, while a source at that very rate loses none to jitter: a
 * frame may come up to 40% of a frame interval early.
 */
export class FramePacer {
  private nextDue = 0;
  private readonly interval: number;

  constructor(fps: number) {
    this.interval = 1000 / fps;
  }

  /** Whether a frame arriving at `now` (ms) goes through; counts it when it does. */
  admit(now: number): boolean {
    if (now < this.nextDue - this.interval * 0.4) return false;
    // behind by more than a frame (a pause, a slow source): start again from now
    this.nextDue = now > this.nextDue + this.interval ? now + this.interval : this.nextDue + this.interval;
    return true;
  }
}
