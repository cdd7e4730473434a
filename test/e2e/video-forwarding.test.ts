import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { Lab } from '../../lab/lab.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * Encoded video forwarding on the real lab: the room person's camera (Chromium, VP8 through the Janus VideoRoom) goes
 * to a VP8 phone (baresip, libvpx) as the room sent it, undecoded by the bridge, while she is the only picture; a
 * second camera in the room switches the phone to the composed grid and back. The phone's picture (a green video
 * file, VP8) goes to the room as it came. The phone and the people decode what they get, and the record counts the
 * frames forwarded and the keyframe requests passed on.
 */
const ALICE: Rgb = [200, 0, 200];
const BOB: Rgb = [0, 200, 200];
const PHONE: Rgb = [0, 160, 0];
const COLOURS = [ALICE, BOB, [0, 0, 0]] as const;
let lab: Lab;
let alice: RoomPerson;

const phoneVideo = join(tmpdir(), `roomline-green-${process.pid}.mp4`);
beforeAll(async () => {
  await writeCompositeVideo(phoneVideo, { colors: [PHONE, PHONE, PHONE, PHONE], durationS: 120 });
});
afterAll(async () => {
  await rm(phoneVideo, { force: true });
});
useLab({ workers: 1, phone: { videoCodecs: ['VP8'], videoFile: phoneVideo }, persons: [] }, async (started) => {
  lab = started;
  alice = await lab.addPerson({ display: 'Alice', toneHz: 440, color: ALICE });
});

async function connect(media: Record<string, unknown>): Promise<string> {
  const callId = await lab.client.enqueueDial(lab.dialRequest({ media }));
  const record = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
  expect(record.state, JSON.stringify(record.failure)).toBe('CONNECTED');
  return callId;
}

async function hangUp(callId: string): Promise<CallRecord> {
  await lab.client.requestHangup(callId);
  return lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
}

/** What the phone decodes now, as the nearest of the people's colours (or black). */
async function phoneSees(name: string, region?: { x: number; y: number; width: number; height: number }): Promise<Rgb> {
  const path = await lab.phone.snapshot(join(lab.dir, `${name}-${Date.now()}.png`));
  return COLOURS[nearestColor(await meanColorOfImage(path, region), COLOURS)]!;
}

describe('video forwarded to the phone without re-encoding', () => {
  it('carries the only camera\'s VP8 frames to a VP8 phone as they came, and the phone decodes them', async () => {
    // Prepare
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'VP8', layout: 'active-speaker' });
    await sleep(3_000);

    // Act
    const first = await phoneSees('forwarded');
    await sleep(1_000);
    const second = await phoneSees('forwarded-later');
    const record = await hangUp(callId);

    // Assess
    expect([first, second]).toEqual([ALICE, ALICE]);
    const path = record.quality?.videoPath?.roomToSip;
    process.stdout.write(`video path: ${JSON.stringify(path)}\n`);
    expect(path?.mode).toBe('forward');
    // about 4 s at 30 fps; the bridge's own frames only bridge the first moments
    expect(path?.forwardedFrames).toBeGreaterThan(60);
    expect(path?.forwardedKeyFrames).toBeGreaterThanOrEqual(1);
    expect(path!.forwardedFrames).toBeGreaterThan(3 * path!.encodedFrames);
    expect(path?.droppedFrames).toBe(0);
    expect(record.quality?.sip.videoOut?.codec).toBe('VP8');
    expect(record.quality?.room.videoIn?.codec).toBe('VP8');
  });

  it('composes the picture while a second camera is in the room, and forwards again when she leaves', async () => {
    // Prepare
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'VP8', layout: 'grid' });
    await sleep(2_500);
    const alone = await phoneSees('alone');

    // Act
    const bob = await lab.addPerson({ display: 'Bob', toneHz: 660, color: BOB, record: false });
    await sleep(3_000);
    const left = await phoneSees('grid-left', { x: 0.05, y: 0.3, width: 0.4, height: 0.4 });
    const right = await phoneSees('grid-right', { x: 0.55, y: 0.3, width: 0.4, height: 0.4 });
    await bob.leave();
    lab.persons.splice(lab.persons.indexOf(bob), 1);
    await sleep(3_000);
    const againAlone = await phoneSees('alone-again');
    const record = await hangUp(callId);

    // Assess
    expect(alone).toEqual(ALICE);
    expect([left, right].sort()).toEqual([ALICE, BOB].sort());
    expect(againAlone).toEqual(ALICE);
    const path = record.quality?.videoPath?.roomToSip;
    process.stdout.write(`video path across the switches: ${JSON.stringify(path)}\n`);
    // forwarded, composed (encoded by the bridge) with Bob, forwarded again
    expect(path?.mode).toBe('forward');
    expect(path?.switches).toBeGreaterThanOrEqual(3);
    expect(path?.encodedFrames).toBeGreaterThan(30);
    expect(path?.forwardedKeyFrames).toBeGreaterThanOrEqual(2);
  });

  it('carries the phone\'s VP8 picture to the room as it came, and a newcomer\'s keyframe request reaches the phone', async () => {
    // Prepare
    const callId = await connect({ video: 'sendrecv', sipVideoCodec: 'VP8', layout: 'active-speaker' });
    await sleep(3_000);
    const seenByAlice = await alice.seenFeeds();

    // Act: a newcomer subscribes to the bot's feed; Janus asks the bot for a keyframe, the bot asks the phone
    const carol = await lab.addPerson({ display: 'Carol', toneHz: 880, record: false });
    await sleep(3_000);
    const seenByCarol = await carol.seenFeeds();
    await carol.leave();
    lab.persons.splice(lab.persons.indexOf(carol), 1);
    const record = await hangUp(callId);

    // Assess
    const phoneFeed = (feeds: Awaited<ReturnType<RoomPerson['seenFeeds']>>) =>
      feeds.find((f) => nearestColor(f.color, [PHONE, ALICE, [0, 0, 0]]) === 0);
    expect(phoneFeed(seenByAlice), `Alice sees ${JSON.stringify(seenByAlice)}`).toMatchObject({ width: 640, height: 480 });
    expect(phoneFeed(seenByCarol), `Carol sees ${JSON.stringify(seenByCarol)}`).toMatchObject({ width: 640, height: 480 });
    const path = record.quality?.videoPath?.sipToRoom;
    process.stdout.write(`SIP → room video path: ${JSON.stringify(path)}; room video out ${JSON.stringify(record.quality?.room.videoOut)}\n`);
    expect(path?.mode).toBe('forward');
    expect(path?.forwardedFrames).toBeGreaterThan(60);
    expect(path?.farEndKeyFrameRequests).toBeGreaterThanOrEqual(1);
    expect(path?.forwardedKeyFrames).toBeGreaterThanOrEqual(2);
    expect(record.quality?.videoPath?.roomToSip?.mode).toBe('forward');
  });
});
