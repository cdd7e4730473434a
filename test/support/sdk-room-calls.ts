import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { DialRequestInput } from '../../contracts/dial-request.js';
import { RoomlineError } from '../../contracts/errors.js';
import type { PageCommand } from '../../contracts/page-rpc.js';
import { hasTone } from '../../lab/audio-analysis.js';
import type { FakeRoomHandle } from '../../lab/fake-sdks/control.js';
import { FAKE_PARTICIPANT } from '../../lab/fake-sdks/protocol.js';
import type { Lab } from '../../lab/lab.js';
import { TILE_PALETTE, meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { phoneHeardLast, waitForVideos, waitUntilHeard, workerLogs } from './cpaas.js';
import { isFinal, states, useLab } from './lab.js';
import { openRealBotPage, type RealBotPage } from './real-bot-page.js';

/**
 * What the end-to-end files of the CPaaS rooms whose SDK the lab replaces by a typed fake (Daily, Vonage) prove alike:
 * the lab they run in (a phone with a 1000 Hz tone and an H.264 camera sending a 2x2 composite), and the calls and
 * checks that are the same for every such room. Each file keeps its own test names and what only its SDK is asked.
 */

export const TILES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] as const;
const PARTICIPANT: Rgb = FAKE_PARTICIPANT.color;
const PHONE_TONE_HZ = 1000;

type SdkProvider = 'daily' | 'vonage';
type JoinRoom = Extract<PageCommand, { type: 'join-room' }>['room'];

/** One file's lab and its room. */
export interface SdkRoomLab {
  readonly provider: SdkProvider;
  /** The lab, once started. */
  readonly lab: Lab;
  /** A dial request into the file's room (as `Phone`), with `overrides`. */
  request(overrides?: Partial<DialRequestInput>): DialRequestInput;
  /** Waits for the call to be CONNECTED, and says so if it ended first. */
  connected(callId: string): Promise<void>;
}

/** Starts the lab for one file's tests (see useLab), with the phone's composite video written before and removed after. */
export function useSdkRoomLab(provider: SdkProvider, room: DialRequestInput['room']): SdkRoomLab {
  let lab: Lab | undefined;
  const composite = join(tmpdir(), `roomline-${provider}-composite-${process.pid}.mp4`);
  beforeAll(async () => {
    await writeCompositeVideo(composite, { durationS: 120 });
  });
  useLab({ workers: 1, persons: [], fakeSdks: true, phone: { toneHz: PHONE_TONE_HZ, videoCodecs: ['H264'], videoFile: composite } }, (started) => {
    lab = started;
  });
  afterAll(async () => {
    await rm(composite, { force: true });
  });
  const started = (): Lab => {
    if (lab === undefined) throw new Error('the lab is not started');
    return lab;
  };
  return {
    provider,
    get lab() {
      return started();
    },
    request: (overrides = {}) => started().dialRequest({ room, ...overrides }),
    connected: async (callId) => {
      const record = await started().client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 30_000 });
      expect(record.state, JSON.stringify(record.failure)).toBe('CONNECTED');
    },
  };
}

/** How a file names the fake's other participant and a tile the bot publishes (for the failure messages). */
export interface SdkRoomWords {
  readonly participant: string;
  readonly feed: string;
}

/**
 * A call with the split SIP picture and a 2 s empty-room timeout: the fake participant talks and shows its camera, the
 * phone talks and shows its composite, then the participant leaves. Asserts what each end perceived, that presence
 * ended the call, the room leg's quality and that the token is nowhere; returns the fake and what its SDK was asked.
 */
export async function assertBridgedBothWays(
  room: SdkRoomLab,
  token: string,
  words: SdkRoomWords,
): Promise<{ readonly fake: FakeRoomHandle; readonly calls: readonly string[]; readonly record: CallRecord }> {
  // Prepare
  const lab = room.lab;
  const since = Date.now();
  const callId = await lab.client.enqueueDial(
    room.request({
      media: { video: 'sendrecv', sipVideoCodec: 'H264', splitIncoming: { rows: 2, cols: 2, names: [...TILES] } },
      limits: { ringTimeoutS: 20, maxDurationS: 120, emptyRoomTimeoutS: 2 },
    }),
  );
  const fake = await lab.fakeSdks!.nextRoom(room.provider, { since });
  await room.connected(callId);

  // Act: the participant talks and shows its camera, the phone talks and shows its composite
  const heard = await waitUntilHeard(fake, PHONE_TONE_HZ, since);
  const tiles = await waitForVideos(fake, TILES, TILE_PALETTE);
  let phoneSaw: Rgb = [0, 0, 0];
  await waitUntil(
    async () => {
      const snapshot = await lab.phone.snapshot(join(lab.dir, `${room.provider}-phone-${Date.now()}.png`));
      phoneSaw = await meanColorOfImage(snapshot);
      return nearestColor(phoneSaw, [PARTICIPANT, [0, 0, 0]]) === 0;
    },
    { timeoutMs: 20_000, what: `the phone to show ${words.participant}'s camera`, intervalMs: 1_000 },
  ).catch(() => undefined);
  const calls = await fake.calls();
  const leftAt = Date.now();
  await fake.participantLeaves();
  const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });

  // Assess: what each end perceived
  expect(hasTone(heard, PHONE_TONE_HZ), `${words.participant} heard ${JSON.stringify(heard)}`).toBe(true);
  const phoneHeard = await phoneHeardLast(lab, since);
  expect(phoneHeard !== undefined && hasTone(phoneHeard, FAKE_PARTICIPANT.toneHz), `the phone heard ${JSON.stringify(phoneHeard)}`).toBe(true);
  expect(nearestColor(phoneSaw, [PARTICIPANT, [0, 0, 0]]), `the phone showed rgb(${phoneSaw.join(', ')})`).toBe(0);
  for (const [i, name] of TILES.entries()) {
    const tile = tiles.find((t) => t.name === name);
    expect(tile, `no ${words.feed} "${name}" among ${JSON.stringify(tiles)}`).toBeDefined();
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
  // the token is a secret: in no record and in no log line
  expect(JSON.stringify(record)).not.toContain(token);
  expect(await workerLogs(lab)).not.toContain(token);
  return { fake, calls, record };
}

/** A connected call whose room the provider ends: ENDED by the room with `detail`, and the phone hung up. */
export async function assertEndsWithTheRoom(room: SdkRoomLab, detail: string): Promise<void> {
  // Prepare
  const lab = room.lab;
  const since = Date.now();
  const callId = await lab.client.enqueueDial(room.request());
  const fake = await lab.fakeSdks!.nextRoom(room.provider, { since });
  await room.connected(callId);

  // Act
  await fake.meetingEnds();

  // Assess
  const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
  expect(record.state).toBe('ENDED');
  expect(record.endedBy).toBe('room');
  expect(record.history.at(-1)?.detail).toBe(detail);
  const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
  expect(closed).toBeDefined();
}

/**
 * A split of `rows` x `cols` tiles, sent raw past the client library's own check: the worker's edge refuses it as
 * the caller's, with `reason`, before any room is opened, and keeps the token out of the record.
 */
export async function assertSplitRefused(
  room: SdkRoomLab,
  split: { readonly rows: number; readonly cols: number },
  reason: string,
  token: string,
): Promise<void> {
  // Prepare: a raw SendMessage, past the client library's own check, so the worker's edge decides
  const lab = room.lab;
  const since = Date.now();
  const callId = `${room.provider}-split-${since}`;
  const body = JSON.stringify({ ...room.request({ media: { video: 'recvonly', splitIncoming: split } }), callId });

  // Act
  await lab.emulators.sqsClient().send(new SendMessageCommand({ QueueUrl: lab.emulators.queueUrl, MessageBody: body }));

  // Assess
  const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
  expect(record.state).toBe('FAILED');
  expect(record.failure).toMatchObject({ code: 'INVALID_REQUEST', fault: 'caller', retryable: false });
  expect(record.failure?.reason).toContain(reason);
  expect(lab.fakeSdks!.rooms.filter((r) => r.openedAt >= since)).toHaveLength(0);
  expect(JSON.stringify(record)).not.toContain(token);
}

/**
 * The real SDK in the real bot page, every origin refused: the bot asks to join `room` (audio only), and fails as
 * ROOM_UNREACHABLE with `failure` in its message and no token. `assess` checks the page's requests, before it closes.
 */
export async function assertRealSdkUnreachable(
  lab: Lab,
  room: JoinRoom,
  failure: { readonly message: string; readonly token: string },
  assess: (requested: RealBotPage['requested']) => void,
): Promise<void> {
  // Prepare
  const page = await openRealBotPage(lab.netns.name);
  try {
    // Act
    const joining = await page.bridge
      .send({ type: 'join-room', room, display: 'Phone', media: { audio: true, video: 'off', sipVideoCodec: 'any', layout: 'active-speaker', width: 640, height: 480, fps: 30 } })
      .then(() => undefined, (error: unknown) => error);

    // Assess
    assess(page.requested);
    expect(joining).toBeInstanceOf(RoomlineError);
    expect((joining as RoomlineError).code).toBe('ROOM_UNREACHABLE');
    expect((joining as RoomlineError).message).toContain(failure.message);
    expect((joining as RoomlineError).message).not.toContain(failure.token);
  } finally {
    await page.close();
  }
}
