import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChimeAttendee, ChimeMeeting } from '../../contracts/rooms/chime.js';

/**
 * The lab's Chime meetings and attendees, and the Chime SDK Meetings API over them (the REST JSON protocol of
 * `@aws-sdk/client-chime-sdk-meetings`: CreateMeeting, GetMeeting, DeleteMeeting, CreateAttendee, GetAttendee,
 * ListAttendees, DeleteAttendee), served on loopback for an SDK client with an endpoint override, as the SQS and
 * DynamoDB emulators are. Requests are not signed-checked: the lab has one account.
 */

export interface LabAttendee {
  readonly AttendeeId: string;
  readonly ExternalUserId: string;
  readonly JoinToken: string;
}

export interface LabMeeting {
  readonly meeting: ChimeMeeting;
  readonly attendees: Map<string, LabAttendee>;
}

export interface MeetingEvents {
  /** The meeting was deleted: its sessions end (WebSocket close 4410). */
  meetingEnded(meetingId: string): void;
  /** The attendee was deleted: its session ends. */
  attendeeRemoved(meetingId: string, attendeeId: string): void;
}

export class ChimeMeetings {
  private readonly meetings = new Map<string, LabMeeting>();
  /** Attendee by join token (how the signalling server knows who connects). */
  private readonly byToken = new Map<string, { meetingId: string; attendee: LabAttendee }>();
  /** Every join token ever issued (what a test looks for in logs and records). */
  private readonly tokens: string[] = [];
  /** Every API call served, by operation (what a test counts). */
  readonly calls: { operation: string; meetingId?: string; attendeeId?: string }[] = [];
  private listener: MeetingEvents | undefined;

  /**
   * @param signalingUrl the signalling WebSocket base inside the lab's namespace, e.g. `ws://10.77.0.1:8190`
   * @param audioHost the `host:port` announced as the meeting's audio host
   */
  constructor(
    private readonly signalingUrl: string,
    private readonly audioHost: string,
  ) {}

  onChange(listener: MeetingEvents): void {
    this.listener = listener;
  }

  createMeeting(externalMeetingId?: string): ChimeMeeting {
    const meetingId = randomUUID();
    const meeting: ChimeMeeting = {
      MeetingId: meetingId,
      ...(externalMeetingId === undefined ? {} : { ExternalMeetingId: externalMeetingId }),
      MediaRegion: 'us-east-1',
      MediaPlacement: {
        AudioHostUrl: this.audioHost,
        AudioFallbackUrl: `${this.signalingUrl.replace(/^ws/, 'wss')}/audio/${meetingId}`,
        SignalingUrl: `${this.signalingUrl}/control/${meetingId}`,
      },
    };
    this.meetings.set(meetingId, { meeting, attendees: new Map() });
    return meeting;
  }

  getMeeting(meetingId: string): LabMeeting | undefined {
    return this.meetings.get(meetingId);
  }

  createAttendee(meetingId: string, externalUserId: string): LabAttendee | undefined {
    const meeting = this.meetings.get(meetingId);
    if (meeting === undefined) return undefined;
    // as Chime does: the same ExternalUserId in the same meeting is the same attendee
    const existing = [...meeting.attendees.values()].find((a) => a.ExternalUserId === externalUserId);
    if (existing !== undefined) return existing;
    const attendee: LabAttendee = {
      AttendeeId: randomUUID(),
      ExternalUserId: externalUserId,
      JoinToken: randomBytes(48).toString('base64url'),
    };
    meeting.attendees.set(attendee.AttendeeId, attendee);
    this.tokens.push(attendee.JoinToken);
    this.byToken.set(attendee.JoinToken, { meetingId, attendee });
    return attendee;
  }

  deleteAttendee(meetingId: string, attendeeId: string): boolean {
    const attendee = this.meetings.get(meetingId)?.attendees.get(attendeeId);
    if (attendee === undefined) return false;
    this.meetings.get(meetingId)?.attendees.delete(attendeeId);
    this.byToken.delete(attendee.JoinToken);
    this.listener?.attendeeRemoved(meetingId, attendeeId);
    return true;
  }

  deleteMeeting(meetingId: string): boolean {
    const meeting = this.meetings.get(meetingId);
    if (meeting === undefined) return false;
    for (const attendee of meeting.attendees.values()) this.byToken.delete(attendee.JoinToken);
    this.meetings.delete(meetingId);
    this.listener?.meetingEnded(meetingId);
    return true;
  }

  issuedTokens(): readonly string[] {
    return [...this.tokens];
  }

  /** Who a join token belongs to, if it is still valid. */
  attendeeByToken(token: string): { meetingId: string; attendee: LabAttendee } | undefined {
    return this.byToken.get(token);
  }

  /** A JoinInfo for a new attendee of `meetingId` (what a caller with an AWS account would make). */
  joinInfo(meetingId: string, externalUserId: string): { meeting: ChimeMeeting; attendee: ChimeAttendee } {
    const meeting = this.meetings.get(meetingId);
    const attendee = this.createAttendee(meetingId, externalUserId);
    if (meeting === undefined || attendee === undefined) throw new Error(`no lab Chime meeting ${meetingId}`);
    return { meeting: meeting.meeting, attendee };
  }

  /** Serves one request of the Chime SDK Meetings API. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
    const body = await readJson(request);
    const method = request.method ?? 'GET';
    const reply = (status: number, value?: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(value === undefined ? '' : JSON.stringify(value));
    };
    const notFound = (what: string) => {
      response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'NotFoundException' });
      response.end(JSON.stringify({ Code: 'NotFound', Message: `${what} not found` }));
    };
    const badRequest = (message: string) => {
      response.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'BadRequestException' });
      response.end(JSON.stringify({ Code: 'BadRequest', Message: message }));
    };
    if (parts[0] !== 'meetings') return notFound('resource');
    const [, meetingId, sub, attendeeId] = parts;
    if (meetingId === undefined) {
      if (method !== 'POST') return notFound('operation');
      const external = typeof body['ExternalMeetingId'] === 'string' ? body['ExternalMeetingId'] : undefined;
      const meeting = this.createMeeting(external);
      this.calls.push({ operation: 'CreateMeeting', meetingId: meeting.MeetingId });
      return reply(200, { Meeting: meeting });
    }
    const meeting = this.meetings.get(meetingId);
    if (sub === undefined) {
      if (method === 'GET') {
        this.calls.push({ operation: 'GetMeeting', meetingId });
        return meeting === undefined ? notFound('meeting') : reply(200, { Meeting: meeting.meeting });
      }
      if (method === 'DELETE') {
        this.calls.push({ operation: 'DeleteMeeting', meetingId });
        return this.deleteMeeting(meetingId) ? reply(204) : notFound('meeting');
      }
      return notFound('operation');
    }
    if (sub !== 'attendees' || meeting === undefined) return notFound('meeting');
    if (attendeeId === undefined) {
      if (method === 'GET') {
        this.calls.push({ operation: 'ListAttendees', meetingId });
        return reply(200, { Attendees: [...meeting.attendees.values()].map(({ JoinToken: _t, ...a }) => a) });
      }
      if (method !== 'POST') return notFound('operation');
      const externalUserId = body['ExternalUserId'];
      if (typeof externalUserId !== 'string' || externalUserId.length < 2 || externalUserId.length > 64) {
        return badRequest('ExternalUserId must be 2-64 characters');
      }
      const attendee = this.createAttendee(meetingId, externalUserId);
      this.calls.push({ operation: 'CreateAttendee', meetingId, ...(attendee === undefined ? {} : { attendeeId: attendee.AttendeeId }) });
      return attendee === undefined ? notFound('meeting') : reply(200, { Attendee: attendee });
    }
    if (method === 'GET') {
      this.calls.push({ operation: 'GetAttendee', meetingId, attendeeId });
      const attendee = meeting.attendees.get(attendeeId);
      return attendee === undefined ? notFound('attendee') : reply(200, { Attendee: attendee });
    }
    if (method === 'DELETE') {
      this.calls.push({ operation: 'DeleteAttendee', meetingId, attendeeId });
      return this.deleteAttendee(meetingId, attendeeId) ? reply(204) : notFound('attendee');
    }
    return notFound('operation');
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 65_536) break;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
