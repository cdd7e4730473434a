import { createHash } from 'node:crypto';
import {
  ChimeSDKMeetingsClient,
  CreateAttendeeCommand,
  DeleteAttendeeCommand,
  GetMeetingCommand,
  type Attendee,
} from '@aws-sdk/client-chime-sdk-meetings';
import { RoomlineError } from '../contracts/errors.js';
import { chimeMeetingSchema, type ChimeAttendee, type ChimeRoomJoin } from '../contracts/rooms/chime.js';
import type { Logger } from './logger.js';

/**
 * A Chime join by `meetingId`: the worker gets the meeting and creates the bot's attendees (one, plus one per tile of a
 * split picture) with the Chime SDK Meetings API, and deletes them when the call ends. The endpoint follows the AWS
 * SDK's own resolution, so `AWS_ENDPOINT_URL_CHIME_SDK_MEETINGS` points it elsewhere (the lab's stand-in). Join tokens
 * stay in memory: they go to the bot page and nowhere else.
 */
export interface PreparedChimeRoom {
  /** The join data with a JoinInfo for the bot (and its tiles). */
  readonly room: ChimeRoomJoin;
  /** Deletes the attendees made for this call. Idempotent; never throws. */
  release(): Promise<void>;
}

export interface ChimeAttendeesOptions {
  /** The worker's AWS region; a room's own `region` wins. @default the SDK's resolution */
  readonly region?: string;
  readonly logger: Logger;
  /** A client per region. @default a ChimeSDKMeetingsClient of that region */
  readonly client?: (region: string | undefined) => ChimeSDKMeetingsClient;
}

/** API errors that mean the request can never succeed (no such meeting, not allowed, bad input). */
const REFUSALS = new Set(['NotFoundException', 'ForbiddenException', 'BadRequestException', 'UnauthorizedException', 'UnprocessableEntityException']);

export class ChimeAttendees {
  private readonly clients = new Map<string, ChimeSDKMeetingsClient>();

  constructor(private readonly options: ChimeAttendeesOptions) {}

  /**
   * Makes the JoinInfo of a `meetingId` room: GetMeeting, then CreateAttendee for the bot (`display`) and for each tile
   * (`tiles`, by name). ExternalUserIds are `<tag>#<name>`, the tag unique to the call, so two calls never share an
   * attendee (Chime returns the existing attendee for a repeated ExternalUserId).
   */
  async prepare(room: ChimeRoomJoin, names: { callId: string; display: string; tiles: readonly string[] }): Promise<PreparedChimeRoom> {
    const meetingId = room.meetingId;
    if (meetingId === undefined) return { room, release: async () => undefined };
    const client = this.client(room.region);
    const created: string[] = [];
    const release = once(async () => {
      await Promise.all(
        created.map((attendeeId) =>
          client.send(new DeleteAttendeeCommand({ MeetingId: meetingId, AttendeeId: attendeeId })).catch((error: unknown) =>
            this.options.logger.warn({ meetingId, attendeeId, error: errorName(error) }, 'deleting a Chime attendee failed'),
          ),
        ),
      );
      if (created.length > 0) this.options.logger.info({ meetingId, attendees: created.length }, 'Chime attendees deleted');
    });
    try {
      const got = await client.send(new GetMeetingCommand({ MeetingId: meetingId }));
      const meeting = chimeMeetingSchema.safeParse(got.Meeting);
      if (!meeting.success) throw new RoomlineError('ROOM_JOIN_FAILED', `GetMeeting returned no usable meeting for ${meetingId}`);
      const tag = createHash('sha256').update(names.callId).digest('hex').slice(0, 8);
      const create = async (name: string): Promise<ChimeAttendee> => {
        const response = await client.send(
          new CreateAttendeeCommand({ MeetingId: meetingId, ExternalUserId: `${tag}#${name}`.slice(0, 64) }),
        );
        const attendee = asAttendee(response.Attendee);
        created.push(attendee.AttendeeId);
        return attendee;
      };
      const attendee = await create(names.display);
      const tileAttendees: ChimeAttendee[] = [];
      // in tile order: the page gives the n-th tile the n-th attendee
      for (const tile of names.tiles) tileAttendees.push(await create(tile));
      this.options.logger.info({ meetingId, attendees: created.length }, 'Chime attendees created');
      const { meetingId: _id, region: _region, ...rest } = room;
      return {
        room: { ...rest, meeting: meeting.data, attendee, ...(tileAttendees.length === 0 ? {} : { tileAttendees }) },
        release,
      };
    } catch (error) {
      await release();
      throw asRoomlineError(error, meetingId);
    }
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
  }

  private client(region: string | undefined): ChimeSDKMeetingsClient {
    const key = region ?? this.options.region ?? '';
    let client = this.clients.get(key);
    if (client === undefined) {
      const resolved = region ?? this.options.region;
      client = this.options.client?.(resolved) ?? new ChimeSDKMeetingsClient(resolved === undefined ? {} : { region: resolved });
      this.clients.set(key, client);
    }
    return client;
  }
}

function asAttendee(value: Attendee | undefined): ChimeAttendee {
  if (value?.AttendeeId === undefined || value.ExternalUserId === undefined || value.JoinToken === undefined) {
    throw new RoomlineError('ROOM_JOIN_FAILED', 'CreateAttendee returned no attendee');
  }
  return { AttendeeId: value.AttendeeId, ExternalUserId: value.ExternalUserId, JoinToken: value.JoinToken };
}

function asRoomlineError(error: unknown, meetingId: string): RoomlineError {
  if (error instanceof RoomlineError) return error;
  const name = errorName(error);
  return REFUSALS.has(name)
    ? new RoomlineError('ROOM_JOIN_FAILED', `the Chime meeting ${meetingId} cannot be joined: ${name}`)
    : new RoomlineError('ROOM_UNREACHABLE', `the Chime SDK Meetings API did not answer for ${meetingId}: ${name}`);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
