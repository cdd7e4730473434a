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
import { QUADRANT_COLORS, TILE_PALETTE, meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { phoneHeardLast, waitForVideos, waitUntilHeard, workerLogs } from '../support/cpaas.js';
import { isFinal, states, useLab } from '../support/lab.js';
import { openRealBotPage } from '../support/real-bot-page.js';

/**
 * Vonage Video sessions, proven as far as this machine allows. Vonage's SDK talks to Vonage's closed servers and cannot
 * connect from here, so the worker serves a test build of the real bot page in which @vonage/client-sdk-video is the
 * lab's typed fake (lab/fake-sdks/vonage.ts: the SDK's own types, its events in the order its code dispatches them,
 * another client with a 440 Hz tone and a coloured camera). Everything else is real: the worker, the queue and the
 * record, Chromium, the bot page, the Janus SIP leg to the lab's phone (baresip, H.264, sending a 2x2 composite,
 * 1000 Hz). The last test loads the real SDK in the real bot page with every origin refused.
 */
const APPLICATION_ID = '0f9c3a52-1b2e-4c3d-9e8f-7a6b5c4d3e2f';
const SESSION_ID = '1_MX4wZjljM2E1Mn5-MTgwMDAwMDAwMDAwMH5sYWItc2Vzc2lvbn5-fg';
const TOKEN = 'T1==cGFydG5lcl9pZD0wZjljM2E1MiZzaWc9bGFiLXZvbmFnZS1jbGllbnQtdG9rZW4=';
const TILES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] as const;
const PARTICIPANT: Rgb = FAKE_PARTICIPANT.color;
const PHONE_TONE_HZ = 1000;

let lab: Lab;
const composite = join(tmpdir(), `roomline-vonage-composite-${process.pid}.mp4`);
beforeAll(async () => {
  await writeCompositeVideo(composite, { durationS: 120 });
});
useLab({ workers: 1, persons: [], fakeSdks: true, phone: { toneHz: PHONE_TONE_HZ, videoCodecs: ['H264'], videoFile: composite } }, (started) => {
  lab = started;
});
afterAll(async () => {
  await rm(composite, { force: true });
});

const room = { provider: 'vonage', applicationId: APPLICATION_ID, sessionId: SESSION_ID, token: TOKEN } as const;

function vonageRequest(overrides: Partial<DialRequestInput> = {}): DialRequestInput {
  return lab.dialRequest({ room: { ...room, display: 'Phone' }, ...overrides });
}

async function connected(callId: string): Promise<void> {
  const record = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 30_000 });
  expect(record.state, JSON.stringify(record.failure)).toBe('CONNECTED');
}

describe('a Vonage Video session (the SDK replaced by its typed fake) bridged to the lab\'s phone', () => {
  it('carries audio and video both ways, publishes the split SIP picture as one publisher per tile, and ends when the session empties', async () => {
    // Prepare
    const since = Date.now();
    const callId = await lab.client.enqueueDial(
      vonageRequest({
        media: { video: 'sendrecv', sipVideoCodec: 'H264', splitIncoming: { rows: 2, cols: 2, names: [...TILES] } },
        limits: { ringTimeoutS: 20, maxDurationS: 120, emptyRoomTimeoutS: 2 },
      }),
    );
    const fake = await lab.fakeSdks!.nextRoom('vonage', { since });
    await connected(callId);

    // Act: the other client talks and shows its camera, the phone talks and shows its composite
    const heard = await waitUntilHeard(fake, PHONE_TONE_HZ, since);
    const tiles = await waitForVideos(fake, TILES, TILE_PALETTE);
    let phoneSaw: Rgb = [0, 0, 0];
    await waitUntil(
      async () => {
        const snapshot = await lab.phone.snapshot(join(lab.dir, `vonage-phone-${Date.now()}.png`));
        phoneSaw = await meanColorOfImage(snapshot);
        return nearestColor(phoneSaw, [PARTICIPANT, [0, 0, 0]]) === 0;
      },
      { timeoutMs: 20_000, what: 'the phone to show the other client\'s camera', intervalMs: 1_000 },
    ).catch(() => undefined);
    const calls = await fake.calls();
    const leftAt = Date.now();
    await fake.participantLeaves();
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });

    // Assess: what each end perceived
    expect(hasTone(heard, PHONE_TONE_HZ), `the other client heard ${JSON.stringify(heard)}`).toBe(true);
    const phoneHeard = await phoneHeardLast(lab, since);
    expect(phoneHeard !== undefined && hasTone(phoneHeard, FAKE_PARTICIPANT.toneHz), `the phone heard ${JSON.stringify(phoneHeard)}`).toBe(true);
    expect(nearestColor(phoneSaw, [PARTICIPANT, [0, 0, 0]]), `the phone showed rgb(${phoneSaw.join(', ')})`).toBe(0);
    for (const [i, name] of TILES.entries()) {
      const tile = tiles.find((t) => t.name === name);
      expect(tile, `no publisher "${name}" among ${JSON.stringify(tiles)}`).toBeDefined();
      expect(nearestColor(tile!.color, TILE_PALETTE), `${name} looks rgb(${tile!.color.join(', ')})`).toBe(i);
      expect([tile!.width, tile!.height]).toEqual([320, 240]);
    }
    // presence reached the record: the session emptied, the empty-room timeout ended the call
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
    // what the SDK was given: the application and session, the token to connect() alone, no default UI anywhere
    expect(fake.join).toEqual({ provider: 'vonage', room: `${APPLICATION_ID}/${SESSION_ID}`, token: TOKEN, display: '' });
    expect(calls.slice(0, 2)).toEqual(['initSession', 'connect']);
    expect(calls).toContain('subscribe insertDefaultUI=false video=true');
    expect(calls).toContain('initPublisher Phone insertDefaultUI=false audio=true video=false');
    for (const tile of TILES) {
      expect(calls).toContain(`initPublisher ${tile} insertDefaultUI=false audio=false video=true`);
      expect(calls).toContain(`publish ${tile}`);
    }
    // the token is a secret: in no record and in no log line
    expect(JSON.stringify(record)).not.toContain(TOKEN);
    expect(await workerLogs(lab)).not.toContain(TOKEN);
  });

  it('ends the call when Vonage disconnects the bot from the session, with Vonage\'s reason', async () => {
    // Prepare
    const since = Date.now();
    const callId = await lab.client.enqueueDial(vonageRequest());
    const fake = await lab.fakeSdks!.nextRoom('vonage', { since });
    await connected(callId);

    // Act
    await fake.meetingEnds();

    // Assess
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('room');
    expect(record.history.at(-1)?.detail).toBe('the Vonage session disconnected the bot (forceDisconnected)');
    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    expect(closed).toBeDefined();
  });

  it('refuses at the edge a split picture of more tiles than a Vonage session takes, without connecting', async () => {
    // Prepare: a raw SendMessage, past the client library's own check, so the worker's edge decides
    const since = Date.now();
    const callId = `vonage-split-${since}`;
    const body = JSON.stringify({ ...vonageRequest({ media: { video: 'recvonly', splitIncoming: { rows: 3, cols: 3 } } }), callId });

    // Act
    await lab.emulators.sqsClient().send(new SendMessageCommand({ QueueUrl: lab.emulators.queueUrl, MessageBody: body }));

    // Assess
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'INVALID_REQUEST', fault: 'caller', retryable: false });
    expect(record.failure?.reason).toContain('Vonage Video rooms accept at most 4 extra feeds; this split has 9');
    expect(lab.fakeSdks!.rooms.filter((r) => r.openedAt >= since)).toHaveLength(0);
    expect(JSON.stringify(record)).not.toContain(TOKEN);
  });
});

describe('the real Vonage SDK in the real bot page, with every origin refused', () => {
  it('asks only for origins the Vonage contract declares, config before session, and fails clearly when Vonage cannot be reached', async () => {
    // Prepare
    const page = await openRealBotPage(lab.netns.name);
    try {
      // Act
      const joining = await page.bridge
        .send({ type: 'join-room', room, display: 'Phone', media: { audio: true, video: 'off', sipVideoCodec: 'any', layout: 'active-speaker', width: 640, height: 480, fps: 30 } })
        .then(() => undefined, (error: unknown) => error);

      // Assess
      // the SDK's client-event logging may race ahead; the session's config is asked for before the session itself
      const config = page.requested.indexOf(`https://config.opentok.com/project/${APPLICATION_ID}/config.json`);
      const session = page.requested.findIndex((url) => url.startsWith(`https://anvil.opentok.com/session/${SESSION_ID}`));
      expect(config, JSON.stringify(page.requested)).toBeGreaterThanOrEqual(0);
      expect(session, JSON.stringify(page.requested)).toBeGreaterThan(config);
      for (const url of page.requested) expect(roomOrigins(room)).toContain(new URL(url).origin);
      expect(joining).toBeInstanceOf(RoomlineError);
      expect((joining as RoomlineError).code).toBe('ROOM_UNREACHABLE');
      expect((joining as RoomlineError).message).toContain('cannot connect to the Vonage session');
      expect((joining as RoomlineError).message).not.toContain(TOKEN);
    } finally {
      await page.close();
    }
  });
});
