import { z } from 'zod';
import { defineRoomProvider, roomBaseShape, websocketUrlSchema, type RoomIssue } from './provider.js';

/**
 * An Amazon Chime SDK meeting. The bot joins with the official `amazon-chime-sdk-js`, either from a JoinInfo the caller
 * made (`meeting` + `attendee` as CreateMeeting / CreateAttendee return them) or from a `meetingId` alone, for which
 * the worker calls GetMeeting and CreateAttendee (and DeleteAttendee when the call ends).
 */

const idSchema = z.string().min(2).max(64).regex(/^[A-Za-z0-9:._@#-]+$/, 'must be a Chime id');

/** `Meeting` as CreateMeeting / GetMeeting return it (unknown fields are dropped). */
export const chimeMeetingSchema = z.object({
  MeetingId: idSchema,
  ExternalMeetingId: z.string().max(64).optional(),
  MediaRegion: z.string().max(32).optional(),
  MediaPlacement: z.object({
    /** The meeting's audio host (`host:port`). */
    AudioHostUrl: z.string().min(1).max(512),
    AudioFallbackUrl: z.string().max(512).optional(),
    /** The signalling WebSocket of the meeting. */
    SignalingUrl: websocketUrlSchema,
    TurnControlUrl: z.string().max(512).optional(),
    EventIngestionUrl: z.string().url().max(512).optional(),
  }),
  MeetingFeatures: z.record(z.string(), z.unknown()).optional(),
});
export type ChimeMeeting = z.output<typeof chimeMeetingSchema>;

/** `Attendee` as CreateAttendee returns it. `JoinToken` is a secret: never logged, never in the call record. */
export const chimeAttendeeSchema = z.object({
  AttendeeId: idSchema,
  ExternalUserId: z.string().min(2).max(64),
  JoinToken: z.string().min(1).max(2_048).optional(),
});
export type ChimeAttendee = z.output<typeof chimeAttendeeSchema>;

export const chimeRoomSchema = z.strictObject({
  provider: z.literal('chime'),
  /** JoinInfo: the meeting (CreateMeeting / GetMeeting's `Meeting`). Give it with `attendee`, or give `meetingId`. */
  meeting: chimeMeetingSchema.optional(),
  /** JoinInfo: the bot's attendee (CreateAttendee's `Attendee`, with its JoinToken). */
  attendee: chimeAttendeeSchema.optional(),
  /**
   * JoinInfo for a split SIP picture: one attendee per tile, in tile order (Chime allows one camera per attendee).
   * Not needed with `meetingId`: the worker creates them.
   */
  tileAttendees: z.array(chimeAttendeeSchema).max(16).optional(),
  /** Only the meeting's id: the worker gets the meeting and creates the bot's attendees (task-role permissions). */
  meetingId: idSchema.optional(),
  /** The control region the meeting was created in (for `meetingId`). @default the worker's AWS region */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1').optional(),
  ...roomBaseShape,
});
export type ChimeRoomJoin = z.output<typeof chimeRoomSchema>;

/** ExternalUserIds made by Roomline are `<tag>#<name>` (the convention of Chime's own demo); this is the name. */
export function chimeDisplayName(externalUserId: string): string {
  const hash = externalUserId.indexOf('#');
  return hash < 0 ? externalUserId : externalUserId.slice(hash + 1);
}

export const chimeRoom = defineRoomProvider({
  provider: 'chime',
  title: 'Amazon Chime SDK',
  schema: chimeRoomSchema,
  capabilities: {
    // the meeting's audio arrives mixed by Chime, without the bot's own voice
    serverMixedAudio: true,
    // the SDK's active-speaker detector (from Chime's volume indicators)
    activeSpeaker: true,
    video: true,
    // one camera per attendee: each tile is its own attendee, in its own meeting session
    extraFeeds: 'participants',
    maxExtraFeeds: 16,
    // not yet: the SDK has data messages (realtimeSendDataMessage); the lab's Chime stand-in does not
    dataMessages: false,
    // the SDK keeps its connections (and runs encoded transforms of its own for redundant audio)
    encodedForwarding: false,
  },
  origins: (room) => {
    const placement = room.meeting?.MediaPlacement;
    if (placement === undefined) return [];
    return [placement.SignalingUrl, placement.EventIngestionUrl]
      .filter((url): url is string => url !== undefined)
      .map((url) => new URL(url).origin);
  },
  check: (room, media) => {
    const issues: RoomIssue[] = [];
    const joinInfo = room.meeting !== undefined || room.attendee !== undefined || room.tileAttendees !== undefined;
    if (room.meetingId !== undefined && joinInfo) {
      issues.push({ path: ['room'], message: 'give either a JoinInfo (meeting + attendee) or a meetingId, not both' });
    } else if (room.meetingId === undefined) {
      if (room.meeting === undefined) issues.push({ path: ['room', 'meeting'], message: 'give a JoinInfo (meeting + attendee) or a meetingId' });
      if (room.attendee === undefined) issues.push({ path: ['room', 'attendee'], message: 'a JoinInfo needs the bot\'s attendee' });
      else if (room.attendee.JoinToken === undefined) issues.push({ path: ['room', 'attendee', 'JoinToken'], message: 'the attendee needs its JoinToken' });
    }
    if (room.region !== undefined && room.meetingId === undefined) {
      issues.push({ path: ['room', 'region'], message: 'region is for a meetingId join' });
    }
    const split = media.splitIncoming;
    const tiles = split === undefined ? 0 : 'tiles' in split ? split.tiles.length : split.rows * split.cols;
    if (room.meetingId === undefined && tiles > 0) {
      const given = room.tileAttendees ?? [];
      if (given.length < tiles) {
        issues.push({
          path: ['room', 'tileAttendees'],
          message: `a split into ${tiles} tiles with a given JoinInfo needs ${tiles} tile attendees (one per tile; ${given.length} given), or join by meetingId`,
        });
      }
      given.forEach((attendee, i) => {
        if (attendee.JoinToken === undefined) issues.push({ path: ['room', 'tileAttendees', i, 'JoinToken'], message: 'each tile attendee needs its JoinToken' });
      });
    }
    if (room.tileAttendees !== undefined && tiles === 0) {
      issues.push({ path: ['room', 'tileAttendees'], message: 'tile attendees are only for media.splitIncoming' });
    }
    return issues;
  },
  redact: (room) => ({
    ...room,
    ...(room.attendee === undefined ? {} : { attendee: withoutToken(room.attendee) }),
    ...(room.tileAttendees === undefined ? {} : { tileAttendees: room.tileAttendees.map(withoutToken) }),
  }),
});

function withoutToken({ JoinToken: _token, ...attendee }: ChimeAttendee): ChimeAttendee {
  return attendee;
}
