import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DialRequestInput } from '../../contracts/dial-request.js';
import { RoomlineError } from '../../contracts/errors.js';
import { roomOrigins } from '../../contracts/rooms/index.js';
import { hasTone } from '../../lab/audio-analysis.js';
import { FAKE_PARTICIPANT } from '../../lab/fake-sdks/protocol.js';
import type { Lab } from '../../lab/lab.js';
import { checkRoom } from '../../lab/smoke.js';
import { QUADRANT_COLORS, TILE_PALETTE, meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { phoneHeardLast, waitForVideos, waitUntilHeard, workerLogs } from '../support/cpaas.js';
import { isFinal, states, useLab } from '../support/lab.js';
import { openRealBotPage } from '../support/real-bot-page.js';

/**
 * Daily rooms, proven as far as this machine allows. Daily's closed call machine is downloaded from Daily's servers at
 * join and cannot run here, so the worker serves a test build of the real bot page in which daily-js is the lab's typed
 * fake (lab/fake-sdks/daily.ts: daily-js's own types, its documented events in their order, a remote participant with a
 * 440 Hz tone and a coloured camera). Everything else is real: the worker, the queue and the record, Chromium, the
 * bot page, the Janus SIP leg to the lab's phone (baresip, H.264, sending a 2x2 composite, 1000 Hz). The last test
 * loads the real daily-js in the real bot page with every origin refused.
 */
const ROOM_URL = 'https://roomline-lab.daily.co/bridge-test';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJyIjoiYnJpZGdlLXRlc3QifQ.bGFiLW1lZXRpbmctdG9rZW4tZGFpbHk';
const TILES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] as const;
const PARTICIPANT: Rgb = FAKE_PARTICIPANT.color;
const PHONE_TONE_HZ = 1000;

let lab: Lab;
const composite = join(tmpdir(), `roomline-daily-composite-${process.pid}.mp4`);
beforeAll(async () => {
  await writeCompositeVideo(composite, { durationS: 120 });
});
useLab({ workers: 1, persons: [], fakeSdks: true, phone: { toneHz: PHONE_TONE_HZ, videoCodecs: ['H264'], videoFile: composite } }, (started) => {
  lab = started;
});
afterAll(async () => {
  await rm(composite, { force: true });
});

function dailyRequest(overrides: Partial<DialRequestInput> = {}): DialRequestInput {
  return lab.dialRequest({ room: { provider: 'daily', url: ROOM_URL, token: TOKEN, display: 'Phone' }, ...overrides });
}

async function connected(callId: string): Promise<void> {
  const record = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 30_000 });
  expect(record.state, JSON.stringify(record.failure)).toBe('CONNECTED');
}

describe('a Daily room (daily-js replaced by its typed fake) bridged to the lab\'s phone', () => {
  it('carries audio and video both ways, publishes the split SIP picture as custom tracks, and ends when the room empties', async () => {
    // Prepare
    const since = Date.now();
    const callId = await lab.client.enqueueDial(
      dailyRequest({
        media: { video: 'sendrecv', sipVideoCodec: 'H264', splitIncoming: { rows: 2, cols: 2, names: [...TILES] } },
        limits: { ringTimeoutS: 20, maxDurationS: 120, emptyRoomTimeoutS: 2 },
      }),
    );
    const room = await lab.fakeSdks!.nextRoom('daily', { since });
    await connected(callId);

    // Act: the participant talks and shows its camera, the phone talks and shows its composite
    const heard = await waitUntilHeard(room, PHONE_TONE_HZ, since);
    const tiles = await waitForVideos(room, TILES, TILE_PALETTE);
    let phoneSaw: Rgb = [0, 0, 0];
    await waitUntil(
      async () => {
        const snapshot = await lab.phone.snapshot(join(lab.dir, `daily-phone-${Date.now()}.png`));
        phoneSaw = await meanColorOfImage(snapshot);
        return nearestColor(phoneSaw, [PARTICIPANT, [0, 0, 0]]) === 0;
      },
      { timeoutMs: 20_000, what: 'the phone to show the participant\'s camera', intervalMs: 1_000 },
    ).catch(() => undefined);
    const calls = await room.calls();
    const leftAt = Date.now();
    await room.participantLeaves();
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });

    // Assess: what each end perceived
    expect(hasTone(heard, PHONE_TONE_HZ), `the participant heard ${JSON.stringify(heard)}`).toBe(true);
    const phoneHeard = await phoneHeardLast(lab, since);
    expect(phoneHeard !== undefined && hasTone(phoneHeard, FAKE_PARTICIPANT.toneHz), `the phone heard ${JSON.stringify(phoneHeard)}`).toBe(true);
    expect(nearestColor(phoneSaw, [PARTICIPANT, [0, 0, 0]]), `the phone showed rgb(${phoneSaw.join(', ')})`).toBe(0);
    for (const [i, name] of TILES.entries()) {
      const tile = tiles.find((t) => t.name === name);
      expect(tile, `no custom track "${name}" among ${JSON.stringify(tiles)}`).toBeDefined();
      expect(nearestColor(tile!.color, TILE_PALETTE), `${name} looks rgb(${tile!.color.join(', ')})`).toBe(i);
      expect([tile!.width, tile!.height]).toEqual([320, 240]);
    }
    // presence reached the record: the room emptied, the empty-room timeout ended the call
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('room');
    expect(record.history.at(-1)?.detail).toBe('room empty for 2 s');
    expect(Date.parse(record.timings!.endedAt!) - leftAt).toBeGreaterThanOrEqual(2_000);
    expect(states(record)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED']);
    // the SDK's own peer connection, seen through the bot's tap: the room leg's quality reaches the record (counts
    // from the last stats sample, so a busy machine may see only a second or so of a call: half a second is the bar)
    expect(record.quality?.room.audioIn?.packets).toBeGreaterThan(25);
    expect(record.quality?.room.audioOut?.packets).toBeGreaterThan(25);
    expect(record.quality?.room.videoIn?.frames).toBeGreaterThan(5);
    expect(record.quality?.room.videoOut?.frames).toBeGreaterThan(5);
    // what daily-js was given: the room URL, the token in its own field, the bot's own subscriptions
    expect(room.join).toEqual({ provider: 'daily', room: ROOM_URL, token: TOKEN, display: 'Phone' });
    expect(calls.slice(0, 2)).toEqual(['createCallObject subscribeToTracksAutomatically=false', 'join']);
    expect(calls).toContain('updateParticipant {"audio":true,"screenAudio":true,"video":true,"screenVideo":false}');
    expect(calls.filter((c) => c.startsWith('startCustomTrack ')).sort()).toEqual(TILES.map((t) => `startCustomTrack ${t}`).sort());
    // the token is a secret: in no record and in no log line
    expect(JSON.stringify(record)).not.toContain(TOKEN);
    expect(await workerLogs(lab)).not.toContain(TOKEN);
  });

  it('ends the call when the Daily meeting ends, with Daily\'s reason', async () => {
    // Prepare
    const since = Date.now();
    const callId = await lab.client.enqueueDial(dailyRequest());
    const room = await lab.fakeSdks!.nextRoom('daily', { since });
    await connected(callId);

    // Act
    await room.meetingEnds();

    // Assess
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('room');
    expect(record.history.at(-1)?.detail).toBe('Daily ended the call for the bot: exp-room: Meeting has ended');
    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    expect(closed).toBeDefined();
  });

  it('refuses at the edge a split picture of more tiles than a Daily room takes, without joining', async () => {
    // Prepare: a raw SendMessage, past the client library's own check, so the worker's edge decides
    const since = Date.now();
    const callId = `daily-split-${since}`;
    const body = JSON.stringify({ ...dailyRequest({ media: { video: 'recvonly', splitIncoming: { rows: 2, cols: 3 } } }), callId });

    // Act
    await lab.emulators.sqsClient().send(new SendMessageCommand({ QueueUrl: lab.emulators.queueUrl, MessageBody: body }));

    // Assess
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'INVALID_REQUEST', fault: 'caller', retryable: false });
    expect(record.failure?.reason).toContain('Daily rooms accept at most 4 extra feeds; this split has 6');
    expect(lab.fakeSdks!.rooms.filter((r) => r.openedAt >= since)).toHaveLength(0);
    expect(JSON.stringify(record)).not.toContain(TOKEN);
  });
});

describe('the real daily-js in the real bot page, with every origin refused', () => {
  it('asks for its call machine on an origin the Daily contract declares, and fails clearly when Daily cannot be reached', async () => {
    // Prepare
    const page = await openRealBotPage(lab.netns.name);
    const room = { provider: 'daily', url: ROOM_URL, token: TOKEN } as const;
    try {
      // Act
      const joining = await page.bridge
        .send({ type: 'join-room', room, display: 'Phone', media: { audio: true, video: 'off', sipVideoCodec: 'any', layout: 'active-speaker', width: 640, height: 480, fps: 30 } })
        .then(() => undefined, (error: unknown) => error);

      // Assess
      const bundles = page.requested.filter((url) => url.includes('/call-machine/'));
      expect(bundles.length, `the page asked for ${JSON.stringify(page.requested)}`).toBeGreaterThan(0);
      expect(bundles[0]).toMatch(/^https:\/\/c\.daily\.co\/call-machine\/versioned\/[\d.]+\/static\/call-machine-object-bundle\.js$/);
      for (const url of bundles) expect(roomOrigins(room)).toContain(new URL(url).origin);
      expect(joining).toBeInstanceOf(RoomlineError);
      expect((joining as RoomlineError).code).toBe('ROOM_UNREACHABLE');
      expect((joining as RoomlineError).message).toContain('cannot join the Daily room');
      expect((joining as RoomlineError).message).not.toContain(TOKEN);
    } finally {
      await page.close();
    }
  });
});

describe('the live smoke command\'s checks, on a room of the lab\'s own', () => {
  it('pass on the lab\'s Janus room, so a failure with a real account points at the account or the provider', async () => {
    // Prepare
    const lines: string[] = [];

    // Act
    const code = await checkRoom(
      { room: { ...lab.endpoints.room, display: 'Roomline smoke bot' }, sip: undefined, secrets: [] },
      { netns: lab.netns.name, out: (line) => lines.push(line) },
    );

    // Assess
    expect(code, lines.join('\n')).toBe(0);
    expect(lines.filter((l) => l.startsWith('  [ok]')).map((l) => l.replace(/:.*$/, ''))).toEqual([
      '  [ok] the bot joins the room',
      '  [ok] the bot sees the smoke participant join (presence)',
      '  [ok] the participant\'s audio reaches the bot',
      '  [ok] the participant\'s camera reaches the bot',
      '  [ok] the bot publishes its audio',
      '  [ok] the participant receives the bot\'s audio track',
    ]);
    expect(lines.at(-1)).toBe('RESULT: 6 of 6 checks passed');
  });
});
