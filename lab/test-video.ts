import { run } from './child-process.js';

export type Rgb = readonly [number, number, number];

/** Colours of a 2x2 composite, row by row: red, green, blue, yellow. */
export const QUADRANT_COLORS: readonly Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
];

/**
 * The quadrants' colours and black, for telling which quadrant a picture shows: a picture that shows nothing (black)
 * is then none of them, where the quadrant colours alone would call it red.
 */
export const TILE_PALETTE: readonly Rgb[] = [...QUADRANT_COLORS, [0, 0, 0]];

const hex = (c: Rgb) => `0x${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/**
 * Writes a video file of a 2x2 composite (a SIP room system's picture): four quadrants of distinct solid colours, as
 * H.264 in MP4, for baresip's avformat source. Made with FFmpeg.
 */
export async function writeCompositeVideo(
  path: string,
  options: { colors?: readonly Rgb[]; width?: number; height?: number; fps?: number; durationS?: number } = {},
): Promise<void> {
  const colors = options.colors ?? QUADRANT_COLORS;
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 30;
  const inputs = colors.flatMap((c) => [
    '-f',
    'lavfi',
    '-i',
    `color=c=${hex(c)}:s=${width / 2}x${height / 2}:r=${fps}`,
  ]);
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    ...inputs,
    '-filter_complex',
    '[0][1]hstack[top];[2][3]hstack[bottom];[top][bottom]vstack,format=yuv420p',
    '-t',
    String(options.durationS ?? 120),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    String(fps),
    path,
  ]);
}

/**
 * The mean colour of an image (e.g. baresip's snapshot of what it received), decoded by FFmpeg; `region` takes part
 * of it, in fractions of the picture.
 */
export async function meanColorOfImage(
  path: string,
  region: { x: number; y: number; width: number; height: number } = { x: 0, y: 0, width: 1, height: 1 },
): Promise<Rgb> {
  const { spawn } = await import('node:child_process');
  const crop = `crop=iw*${region.width}:ih*${region.height}:iw*${region.x}:ih*${region.y}`;
  const child = spawn('ffmpeg', ['-v', 'error', '-i', path, '-vf', `${crop},scale=32:24`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const pixels = Buffer.concat(chunks);
  if (code !== 0 || pixels.length === 0) throw new Error(`FFmpeg could not read ${path}`);
  const sum = [0, 0, 0];
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    sum[0]! += pixels[i]!;
    sum[1]! += pixels[i + 1]!;
    sum[2]! += pixels[i + 2]!;
  }
  const n = pixels.length / 3;
  return [Math.round(sum[0]! / n), Math.round(sum[1]! / n), Math.round(sum[2]! / n)];
}

/** Which of `palette` a colour is closest to (codecs shift colours; classes stay apart). */
export function nearestColor(color: Rgb, palette: readonly Rgb[]): number {
  let best = 0;
  let bestDistance = Infinity;
  palette.forEach((candidate, i) => {
    const distance = candidate.reduce((sum, v, k) => sum + (v - color[k]!) ** 2, 0);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}
