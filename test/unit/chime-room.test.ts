import { describe, expect, it } from 'vitest';
import { safeParseDialRequest } from '../../contracts/dial-request.js';
import { chimeDisplayName, redactRoom, roomOrigins } from '../../contracts/rooms/index.js';
import { newQueuedRecord } from '../../worker/call-state.js';
import { createLogger } from '../../worker/logger.js';

const meeting = {
  MeetingId: '4f1c2a3b-1111-2222-3333-444455556666',
  MediaRegion: 'us-east-1',
  MediaPlacement: {
    AudioHostUrl: 'abc.k.m3.ue1.app.chime.aws:3478',
    SignalingUrl: 'wss://signal.m3.ue1.app.chime.aws/control/4f1c2a3b-1111-2222-3333-444455556666',
    EventIngestionUrl: 'https://data.svc.ue1.ingest.chime.aws/v1/client-events',
  },
};
const attendee = { AttendeeId: 'a1b2c3d4-0000-1111-2222-333344445555', ExternalUserId: 'c0ffee00#Phone', JoinToken: 'join-token-secret-1' };
const tile = (n: number) => ({ AttendeeId: `tile-${n}-attendee`, ExternalUserId: `c0ffee00#Desk ${n}`, JoinToken: `tile-token-${n}` });
const base = { version: 1, to: 'sip:alice@pbx.example.com' };
const split = { video: 'sendrecv', splitIncoming: { rows: 2, cols: 2 } };

describe('Amazon Chime SDK join data', () => {
  it('accepts a JoinInfo as CreateMeeting and CreateAttendee return it, or only a meetingId', () => {
    // Act
    const joinInfo = safeParseDialRequest({ ...base, room: { provider: 'chime', meeting, attendee } });
    const byId = safeParseDialRequest({ ...base, room: { provider: 'chime', meetingId: meeting.MeetingId, region: 'eu-central-1' } });

    // Assess
    expect(joinInfo.ok, !joinInfo.ok ? joinInfo.reason : '').toBe(true);
    expect(byId.ok, !byId.ok ? byId.reason : '').toBe(true);
  });

  it('refuses a room with neither a JoinInfo nor a meetingId, or with both', () => {
    // Act
    const neither = safeParseDialRequest({ ...base, room: { provider: 'chime' } });
    const both = safeParseDialRequest({ ...base, room: { provider: 'chime', meeting, attendee, meetingId: meeting.MeetingId } });
    const noToken = safeParseDialRequest({ ...base, room: { provider: 'chime', meeting, attendee: { ...attendee, JoinToken: undefined } } });

    // Assess
    expect(!neither.ok && neither.reason).toContain('room.meeting: give a JoinInfo (meeting + attendee) or a meetingId');
    expect(!both.ok && both.reason).toContain('room: give either a JoinInfo (meeting + attendee) or a meetingId, not both');
    expect(!noToken.ok && noToken.reason).toContain('room.attendee.JoinToken: the attendee needs its JoinToken');
  });

  it('refuses a split it cannot honour: a given JoinInfo without one attendee per tile, as INVALID_REQUEST at the edge', () => {
    // Act
    const none = safeParseDialRequest({ ...base, media: split, room: { provider: 'chime', meeting, attendee } });
    const short = safeParseDialRequest({ ...base, media: split, room: { provider: 'chime', meeting, attendee, tileAttendees: [tile(1), tile(2)] } });
    const enough = safeParseDialRequest({ ...base, media: split, room: { provider: 'chime', meeting, attendee, tileAttendees: [1, 2, 3, 4].map(tile) } });
    const byId = safeParseDialRequest({ ...base, media: split, room: { provider: 'chime', meetingId: meeting.MeetingId } });

    // Assess
    expect(!none.ok && none.reason).toContain('room.tileAttendees: a split into 4 tiles with a given JoinInfo needs 4 tile attendees');
    expect(!short.ok && short.reason).toContain('(one per tile; 2 given)');
    expect(enough.ok).toBe(true);
    expect(byId.ok).toBe(true);
  });

  it('lets the page reach the meeting\'s signalling and event origins only', () => {
    // Act
    const origins = roomOrigins({ provider: 'chime', meeting, attendee });

    // Assess
    expect(origins).toEqual(['wss://signal.m3.ue1.app.chime.aws', 'https://data.svc.ue1.ingest.chime.aws']);
    expect(roomOrigins({ provider: 'chime', meetingId: meeting.MeetingId })).toEqual([]);
  });

  it('keeps no join token in the call record, nor in a log line of the request', () => {
    // Prepare
    const parsed = safeParseDialRequest({ ...base, media: split, room: { provider: 'chime', meeting, attendee, tileAttendees: [1, 2, 3, 4].map(tile) } });
    if (!parsed.ok) throw new Error(parsed.reason);
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream });

    // Act
    const record = newQueuedRecord({ ...parsed.request, callId: 'c1' }, new Date());
    logger.info({ attendee: parsed.request.room.provider === 'chime' ? parsed.request.room.attendee : undefined }, 'attendee');

    // Assess
    const text = JSON.stringify(record);
    for (const token of ['join-token-secret-1', 'tile-token-1', 'tile-token-4']) {
      expect(text).not.toContain(token);
      expect(lines.join('')).not.toContain(token);
    }
    expect(redactRoom(parsed.request.room)).toMatchObject({ attendee: { AttendeeId: attendee.AttendeeId } });
  });

  it('shows an attendee by the name after the tag of its ExternalUserId', () => {
    expect(chimeDisplayName('c0ffee00#Desk red')).toBe('Desk red');
    expect(chimeDisplayName('alice@example.com')).toBe('alice@example.com');
  });
});
