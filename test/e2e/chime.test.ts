import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import { hasTone } from '../../lab/audio-analysis.js';
import { VIDEO_DEMO_MEDIA, dialAndMeasure } from '../../lab/demo-call.js';
import type { Lab } from '../../lab/lab.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { TILE_PALETTE, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { isFinal, states, useLab } from '../support/lab.js';

/**
 * Amazon Chime SDK meetings across the bridge, on the real lab: the bot and the meeting's person run the official,
 * unmodified amazon-chime-sdk-js against the lab's Chime stand-in (signalling on the SDK's own protobuf codec, a media
 * page answering each attendee, the Meetings API on loopback for the worker's AWS SDK). The phone is baresip, H.264
 * video only, sending a 2x2 composite of four colours.
 */
const ALICE: Rgb = [200, 0, 200];
const TILES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'];
let lab: Lab;
let alice: RoomPerson;
/** Every record of this file's calls: none may hold a join token. */
const records: CallRecord[] = [];

const composite = join(tmpdir(), `roomline-chime-composite-${process.pid}.mp4`);
beforeAll(async () => {
  await writeCompositeVideo(composite, { durationS: 120 });
});
useLab(
  { workers: 1, phone: { videoCodecs: ['H264'], videoFile: composite }, persons: [], chime: { persons: [] }, webApps: true },
  async (started) => {
    lab = started;
    alice = await lab.addChimePerson({ display: 'Alice', toneHz: 440, color: ALICE });
  },
);
afterAll(async () => {
  await rm(composite, { force: true });
});

async function waitConnected(callId: string): Promise<void> {
  const record = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 30_000 });
  expect(record.state, JSON.stringify(record.failure)).toBe('CONNECTED');
}

describe('a phone bridged into an Amazon Chime SDK meeting', () => {
  it('carries the meeting\'s audio to the phone and the phone\'s tone to the person in the meeting', async () => {
    const report = await dialAndMeasure(lab, {
      talkS: 3,
      person: alice,
      request: { room: lab.chimeRoom({ join: 'join-info' }) },
    });
    records.push(report.record);

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    expect(report.phoneHeard!.soundS).toBeGreaterThan(2);
    expect(report.personHeard.soundS).toBeGreaterThan(2);
    expect(states(report.record)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED']);
    expect(report.record.history.find((h) => h.state === 'JOINING')?.detail).toBe('room chime');
    // Chime mixes the meeting's audio: one stream in, the SIP audio as the bot's microphone out
    expect(report.record.quality?.room.audioIn?.packets).toBeGreaterThan(100);
    expect(report.record.quality?.room.audioOut?.packets).toBeGreaterThan(100);
  });

  it('shows the attendee\'s camera to an H.264-only phone and the phone\'s 2x2 composite as four attendees', async () => {
    const report = await dialAndMeasure(lab, {
      talkS: 4,
      person: alice,
      video: 'split',
      request: { media: VIDEO_DEMO_MEDIA, room: lab.chimeRoom({ join: 'join-info', tiles: TILES }) },
    });
    records.push(report.record);

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(report.record.media).toMatchObject({ video: 'negotiated', sipVideoCodec: 'H264' });
    expect(report.video?.phoneSawPerson, `the phone showed rgb(${report.video?.phoneSaw?.join(', ')})`).toBe(true);
    expect(report.record.quality?.sip.videoOut?.codec).toBe('H264');
    const tiles = report.video?.tiles ?? [];
    expect(tiles.map((t) => t.name)).toEqual(TILES);
    for (const [i, tile] of tiles.entries()) {
      expect(tile.width, `${tile.name} was not seen`).toBeGreaterThan(0);
      expect(nearestColor(tile.color, TILE_PALETTE), `${tile.name} showed rgb(${tile.color.join(', ')})`).toBe(i);
    }
  });

  it('joins by meetingId through the Meetings API, then deletes the attendee it created', async () => {
    const since = lab.chime!.meetings.calls.length;
    const callId = await lab.client.enqueueDial(
      lab.dialRequest({ room: lab.chimeRoom({ join: 'meeting-id', display: 'Phone by id' }) }),
    );
    await waitConnected(callId);
    // the person in the meeting sees the bot under the name the worker gave its attendee
    await expect.poll(async () => (await alice.participants()).map((p) => p.display), { timeout: 15_000 }).toContain('Phone by id');

    await lab.client.requestHangup(callId);
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    records.push(record);

    expect(record.state).toBe('ENDED');
    const calls = lab.chime!.meetings.calls.slice(since);
    const created = calls.filter((c) => c.operation === 'CreateAttendee');
    expect(calls.map((c) => c.operation).slice(0, 2)).toEqual(['GetMeeting', 'CreateAttendee']);
    expect(created).toHaveLength(1);
    await expect.poll(() => lab.chime!.meetings.calls.slice(since).filter((c) => c.operation === 'DeleteAttendee'), { timeout: 10_000 })
      .toEqual([{ operation: 'DeleteAttendee', meetingId: created[0]!.meetingId, attendeeId: created[0]!.attendeeId }]);
    expect(lab.chime!.meetings.getMeeting(lab.endpoints.chime!.meetingId)?.attendees.has(created[0]!.attendeeId!)).toBe(false);
    expect(record.request?.room).toMatchObject({ provider: 'chime', meetingId: lab.endpoints.chime!.meetingId });
  });

  it('ends the call ENDED by room when the meeting is deleted', async () => {
    const meeting = lab.chime!.meetings.createMeeting('ending-meeting');
    const { attendee } = lab.chime!.meetings.joinInfo(meeting.MeetingId, 'tag1#Phone');
    const callId = await lab.client.enqueueDial(lab.dialRequest({ room: { provider: 'chime', meeting, attendee } }));
    await waitConnected(callId);

    await lab.chime!.client().send(new DeleteMeetingCommand({ MeetingId: meeting.MeetingId }));

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    records.push(record);
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('room');
    expect(record.history.at(-1)?.detail).toMatch(/MeetingEnded/);
  });

  it('keeps every join token out of the worker\'s logs and the call records', async () => {
    const tokens = lab.chime!.meetings.issuedTokens();
    const logs = await Promise.all((lab.pool?.workers ?? []).map((w) => readFile(w.logFile, 'utf8').catch(() => '')));
    const text = logs.join('\n');
    const stored = await Promise.all(records.map((r) => lab.client.getCall(r.callId)));

    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(tokens.length).toBeGreaterThanOrEqual(8);
    expect(text).toContain('"msg":"call claimed"');
    for (const token of tokens) {
      expect(text.includes(token), 'a join token is in a worker log').toBe(false);
      expect(JSON.stringify(stored).includes(token), 'a join token is in a call record').toBe(false);
    }
  });
});

describe('page mode: a web app built on the Chime SDK as the room', () => {
  it('joins the app through its window.roomline and carries tones and pictures both ways', async () => {
    // the app gets its JoinInfo from its own backend; here it comes in the page's `join` parameter, a secret
    const join = Buffer.from(JSON.stringify(lab.chimeJoinInfo('Phone'))).toString('base64');

    const report = await dialAndMeasure(lab, {
      talkS: 4,
      person: alice,
      video: 'whole',
      request: {
        // the app's meeting signalling is the stand-in's, an origin the app needs besides its own
        room: { provider: 'page', url: lab.webApps!.chimeAppUrl(), secretParams: { join }, display: 'Phone', origins: [lab.chime!.signalingOrigin] },
        media: { video: 'sendrecv', sipVideoCodec: 'H264' },
      },
    });
    records.push(report.record);

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    expect(report.video?.phoneSawPerson, `the phone showed rgb(${report.video?.phoneSaw?.join(', ')})`).toBe(true);
    expect(report.video?.tiles[0]?.expected, `Alice saw ${JSON.stringify(report.video?.tiles)}`).toBe(true);
    expect(JSON.stringify(report.record)).not.toContain(join);
  });
});
