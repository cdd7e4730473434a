import { z } from 'zod';
import { safeText } from './text.js';

/**
 * The media a dial request asks for (its `media`): audio, the SIP leg's video direction and codec, what the SIP peer
 * sees of the room, and the split of the SIP peer's picture into room feeds. The room providers check a request's
 * media against what they can do, so this stands apart from the dial request, which holds both.
 */

export const VIDEO_DIRECTIONS = ['off', 'sendonly', 'recvonly', 'sendrecv'] as const;
export type VideoDirection = (typeof VIDEO_DIRECTIONS)[number];
export const SIP_VIDEO_CODECS = ['H264', 'VP8', 'VP9', 'any'] as const;
export type SipVideoCodec = (typeof SIP_VIDEO_CODECS)[number];
export const VIDEO_LAYOUTS = ['active-speaker', 'grid'] as const;
export type VideoLayout = (typeof VIDEO_LAYOUTS)[number];

const fraction = z.number().min(0).max(1);
const tileSchema = z
  .strictObject({
    /** Left edge as a fraction of the picture width (0..1). */
    x: fraction,
    /** Top edge as a fraction of the picture height (0..1). */
    y: fraction,
    width: fraction.refine((v) => v > 0, 'must be greater than 0'),
    height: fraction.refine((v) => v > 0, 'must be greater than 0'),
    /** Name the tile's feed gets in the room. @default "<bot display> <n>" */
    name: safeText(64).optional(),
  })
  .refine((t) => t.x + t.width <= 1.0001 && t.y + t.height <= 1.0001, 'tile must lie inside the picture');

export const splitSchema = z.union([
  z.strictObject({
    rows: z.number().int().min(1).max(4),
    cols: z.number().int().min(1).max(4),
    /** Names of the tiles, row by row. */
    names: z.array(safeText(64)).max(16).optional(),
  }),
  z.strictObject({ tiles: z.array(tileSchema).min(1).max(16) }),
]);

/** The names of a split picture's tiles, row by row (a tile without a name is "<base> <n>"). */
export function splitTileNames(split: z.output<typeof splitSchema>, baseName: string): string[] {
  if ('tiles' in split) return split.tiles.map((t, i) => t.name ?? `${baseName} ${i + 1}`);
  return Array.from({ length: split.rows * split.cols }, (_, i) => split.names?.[i] ?? `${baseName} ${i + 1}`);
}

export const mediaSchema = z.strictObject({
  /** Bridge audio both ways. @default true */
  audio: z.boolean().default(true),
  /**
   * Video on the SIP leg, seen from the bridge: `sendonly` sends the room's video to the SIP peer, `recvonly`
   * publishes the SIP peer's video into the room, `sendrecv` does both. @default "off"
   */
  video: z.enum(VIDEO_DIRECTIONS).default('off'),
  /** The video codec the SIP leg offers; the room keeps its own codecs. @default "any" */
  sipVideoCodec: z.enum(SIP_VIDEO_CODECS).default('any'),
  /** What the SIP peer sees of the room. @default "active-speaker" */
  layout: z.enum(VIDEO_LAYOUTS).default('active-speaker'),
  /** Width of the video sent to SIP, in pixels. @default 640 */
  width: z.number().int().min(160).max(1920).default(640),
  /** Height of the video sent to SIP, in pixels. @default 480 */
  height: z.number().int().min(120).max(1080).default(480),
  /** Frame rate of the video sent to SIP. @default 30 */
  fps: z.number().int().min(1).max(60).default(30),
  /** Cut the SIP peer's picture into tiles, each published into the room as its own feed. */
  splitIncoming: splitSchema.optional(),
});

export type MediaOptions = z.output<typeof mediaSchema>;
export type SplitLayout = z.output<typeof splitSchema>;
