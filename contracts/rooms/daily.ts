import { z } from 'zod';
import type { MediaOptions } from '../media-options.js';
import { defineRoomProvider, roomBaseShape, type RoomIssue } from './provider.js';

/**
 * A Daily room (daily-js in call-object mode): the bot joins with its own custom microphone and camera (the SIP side),
 * receives one audio track per participant (Daily does not mix), and publishes the tiles of a split SIP picture as
 * custom tracks of its own participant.
 */

/**
 * Daily's base domain and the two fallback domains daily-js moves to when the first cannot be reached (its code lists
 * exactly these three; they mirror the same servers).
 */
export const DAILY_BASE_DOMAINS = ['daily.co', 'dailywebrtc.com', 'dailywebrtc.net'] as const;

/** Track names daily-js reserves for its own tracks (startCustomTrack refuses them). */
export const DAILY_RESERVED_TRACK_NAMES: readonly string[] = [
  'audio',
  'video',
  'cam-audio',
  'cam-video',
  'screenVideo',
  'screenAudio',
  'screen-video',
  'screen-audio',
  'rmpAudio',
  'rmpVideo',
  'customVideoDefaults',
];

/** Longest custom track name daily-js accepts. */
export const DAILY_MAX_TRACK_NAME = 50;

/** The room's own subdomain (`your-team` of `https://your-team.daily.co/room`), when the URL is on a Daily domain. */
export function dailySubdomain(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  for (const base of DAILY_BASE_DOMAINS) {
    const sub = host.endsWith(`.${base}`) ? host.slice(0, -base.length - 1) : undefined;
    if (sub !== undefined && /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(sub)) return sub;
  }
  return undefined;
}

const dailyRoomUrlSchema = z
  .string()
  .max(512, 'must be at most 512 characters')
  .url('must be a URL')
  .refine((url) => new URL(url).protocol === 'https:', 'must be an https:// URL')
  .refine((url) => !/\/\/[^/]*@/.test(url), 'must not carry credentials in the URL')
  .refine((url) => dailySubdomain(url) !== undefined, 'must be a room on your Daily domain, e.g. https://your-team.daily.co/room-name')
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.search === '' && parsed.hash === '';
  }, 'must carry no query or fragment: the meeting token goes in "token", never in the URL')
  .refine(
    (url) => /^\/[A-Za-z0-9_-]{1,128}$/.test(new URL(url).pathname),
    'must name the room: https://<domain>.daily.co/<room name> (letters, digits, "-" and "_")',
  );

export const dailyRoomSchema = z.strictObject({
  provider: z.literal('daily'),
  /** The room's URL, e.g. `https://your-team.daily.co/standup`: no query string, no token. */
  url: dailyRoomUrlSchema,
  /**
   * A meeting token for the room (private rooms, owner rights, a fixed user name). A secret: passed to daily-js in its
   * own field, never in the URL, never logged, never in the call record. @default none (a public room)
   */
  token: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be a Daily meeting token (a JWT: letters, digits, ".", "-" and "_")')
    .optional(),
  ...roomBaseShape,
});
export type DailyRoomJoin = z.output<typeof dailyRoomSchema>;

/** Tiles a split SIP picture may have in a Daily room. */
export const DAILY_MAX_TILES = 4;

export const dailyRoom = defineRoomProvider({
  provider: 'daily',
  title: 'Daily',
  schema: dailyRoomSchema,
  capabilities: {
    // one audio track per participant: the bridge mixes them
    serverMixedAudio: false,
    // the active-speaker-change event
    activeSpeaker: true,
    video: true,
    // Each tile is a custom track of the bot's own participant (startCustomTrack, after join). daily-js documents no
    // limit on their number; each custom video track is one more encoded (simulcast) send from the bot, so a split is
    // kept to a 2x2 grid.
    extraFeeds: 'feeds',
    maxExtraFeeds: DAILY_MAX_TILES,
    // not yet: Daily has app messages (sendAppMessage), which the lab cannot reach
    dataMessages: false,
    // the SDK keeps its connections
    encodedForwarding: false,
  },
  /**
   * HTTPS origins the page needs for a Daily room, from daily-js's own code and Daily's networking guide: the room's
   * domain (room lookup), `c.` (daily-js loads its call machine bundle from `https://c.<domain>/call-machine/...` at
   * join), `gs.` (dispatch) on Daily's base domain and its two fallbacks, and `prod-ks.pluot.blue` (ICE negotiation).
   * Signalling WebSockets (`*.wss.daily.co`) and media are not HTTP requests: the page's request policy does not see them.
   */
  origins: (room) => {
    const sub = dailySubdomain(room.url) ?? '';
    return [
      ...DAILY_BASE_DOMAINS.flatMap((base) => [`https://${sub}.${base}`, `https://c.${base}`, `https://gs.${base}`]),
      'https://prod-ks.pluot.blue',
    ];
  },
  check: (_room, media) => tileNameIssues(media),
  redact: ({ token: _token, ...room }) => room,
});

/** Named tiles must be names daily-js takes for custom tracks: at most 50 characters, not reserved, each once. */
function tileNameIssues(media: MediaOptions): RoomIssue[] {
  const split = media.splitIncoming;
  if (split === undefined) return [];
  const names = 'tiles' in split ? split.tiles.map((t) => t.name) : (split.names ?? []);
  const issues: RoomIssue[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (name === undefined) continue;
    if (name.length > DAILY_MAX_TRACK_NAME) {
      issues.push({ path: ['media', 'splitIncoming'], message: `Daily custom track names are at most ${DAILY_MAX_TRACK_NAME} characters: "${name.slice(0, 20)}…" is longer` });
    } else if (DAILY_RESERVED_TRACK_NAMES.includes(name)) {
      issues.push({ path: ['media', 'splitIncoming'], message: `"${name}" is a track name Daily reserves for its own tracks` });
    } else if (seen.has(name)) {
      issues.push({ path: ['media', 'splitIncoming'], message: `tile name "${name}" is used twice: Daily would replace the first tile by the second` });
    }
    seen.add(name);
  }
  return issues;
}
