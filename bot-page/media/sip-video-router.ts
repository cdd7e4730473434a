import { splitTileNames, type SplitLayout } from '../../contracts/dial-request.js';
import { FramePacer, FrameSink, evenRect, readFrames } from './video-frames.js';

export interface Tile {
  readonly name: string;
  /** Fractions of the picture (0..1). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly sink: FrameSink;
}

/** The tiles of a split layout, row by row, with their names. */
export function tilesOf(split: SplitLayout, baseName: string): Omit<Tile, 'sink'>[] {
  const names = splitTileNames(split, baseName);
  if ('tiles' in split) {
    return split.tiles.map((t, i) => ({ name: names[i] ?? '', x: t.x, y: t.y, width: t.width, height: t.height }));
  }
  const tiles: Omit<Tile, 'sink'>[] = [];
  for (let row = 0; row < split.rows; row++) {
    for (let col = 0; col < split.cols; col++) {
      const i = row * split.cols + col;
      tiles.push({
        name: names[i] ?? '',
        x: col / split.cols,
        y: row / split.rows,
        width: 1 / split.cols,
        height: 1 / split.rows,
      });
    }
  }
  return tiles;
}

/**
 * SIP → room video: the SIP peer's picture as the bot's camera, or, for a composite from a SIP room system, cut into
 * tiles, each its own feed. A tile is a view of the decoded frame (VideoFrame `visibleRect`): no pixel is copied here;
 * each tile's encoder reads its part. Frames beyond the frame-rate cap are dropped before any work.
 */
export class SipVideoRouter {
  /** The bot's camera (whole picture); unused when splitting. */
  readonly camera = new FrameSink();
  readonly tiles: readonly Tile[];
  private reader: { stop(): void } | undefined;
  private readonly pacer: FramePacer;
  private firstFrame: (() => void) | undefined;
  framesIn = 0;

  constructor(
    split: SplitLayout | undefined,
    baseName: string,
    maxFps: number,
  ) {
    this.pacer = new FramePacer(maxFps);
    this.tiles = split === undefined ? [] : tilesOf(split, baseName).map((t) => ({ ...t, sink: new FrameSink() }));
  }

  get splitting(): boolean {
    return this.tiles.length > 0;
  }

  /** Called once, at the first frame from the SIP peer. */
  onFirstFrame(listener: () => void): void {
    this.firstFrame = listener;
  }

  attach(track: MediaStreamTrack): void {
    this.reader?.stop();
    this.reader = readFrames(track, (frame) => this.route(frame));
  }

  stop(): void {
    this.reader?.stop();
    this.camera.close();
    for (const tile of this.tiles) tile.sink.close();
  }

  private route(frame: VideoFrame): void {
    if (!this.pacer.admit(performance.now())) {
      frame.close();
      return;
    }
    this.framesIn++;
    if (this.framesIn === 1) this.firstFrame?.();
    if (!this.splitting) {
      this.camera.write(frame);
      return;
    }
    const visible = frame.visibleRect;
    const width = visible?.width ?? frame.codedWidth;
    const height = visible?.height ?? frame.codedHeight;
    const originX = visible?.x ?? 0;
    const originY = visible?.y ?? 0;
    try {
      for (const tile of this.tiles) {
        const rect = evenRect(
          { x: originX + tile.x * width, y: originY + tile.y * height, width: tile.width * width, height: tile.height * height },
          originX + width,
          originY + height,
        );
        tile.sink.write(
          new VideoFrame(frame, {
            visibleRect: rect,
            displayWidth: rect.width,
            displayHeight: rect.height,
            timestamp: frame.timestamp,
          }),
        );
      }
    } finally {
      frame.close();
    }
  }
}
