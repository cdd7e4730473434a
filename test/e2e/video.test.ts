import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { Lab } from '../../lab/lab.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { QUADRANT_COLORS, TILE_PALETTE, meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * Video across the bridge, on the real lab. The SIP peer is a legacy-style video phone: baresip with H.264 (avcodec)
 * only, sending a 2x2 composite of four colours as a room system would. The room has two people with cameras of their
 * own colours; the room publishes VP8.
 */
const ALICE: Rgb = [200, 0, 200];
const BOB: Rgb = [0, 200, 200];
const PEOPLE = [ALICE, BOB, [0, 0, 0]] as const;
let lab: Lab;
let alice: RoomPerson;
let bob: RoomPerson;

const composite = join(tmpdir(), `roomline-composite-${process.pid}.mp4`);
beforeAll(async () => {
  await writeCompositeVideo(composite, { durationS: 120 });
});
useLab({ workers: 1, phone: { videoCodecs: ['H264'], videoFile: composite }, persons: [] }, async (started) => {
  lab = started;
  alice = await lab.addPerson({ display: 'Alice', toneHz: 440, color: ALICE });
  bob = await lab.addPerson({ display: 'Bob', toneHz: 660, color: BOB });
});
afterAll(async () => {
  await rm(composite, { force: true });
});
beforeEach(async () => {
  await alice.speak(true);
  await bob.speak(false);
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

/** What the phone shows now, as the nearest of the people's colours (or black). */
async function phoneSees(name: string, region?: { x: number; y: number; width: number; height: number }): Promise<Rgb> {
  const path = await lab.phone.snapshot(join(lab.dir, `${name}-${Date.now()}.png`));
  return PEOPLE[nearestColor(await meanColorOfImage(path, region), PEOPLE)]!;
}

describe('video across the bridge', () => {
  it('sends a room person\'s VP8 picture to an H.264-only SIP peer as H.264, and the peer decodes it', async () => {
    const callId = await connect({ video: 'sendrecv', sipVideoCodec: 'H264' });
    await sleep(3_000);

    const seen = await phoneSees('h264');

    const record = await hangUp(callId);
    expect(seen).toEqual(ALICE);
    expect(record.media).toEqual({ audio: true, video: 'negotiated', sipVideoCodec: 'H264', sipAudioCodec: 'opus' });
    expect(record.quality?.sip.videoOut).toMatchObject({ codec: 'H264', width: 640, height: 480 });
    expect(record.quality?.sip.videoOut?.frames).toBeGreaterThan(60);
    expect(record.quality?.room.videoIn?.codec).toBe('VP8');
    const invite = (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    const videoSection = invite?.sdp.split('m=').find((s) => s.startsWith('video')) ?? '';
    expect(videoSection).toContain('H264/90000');
    expect(videoSection).not.toMatch(/VP8|VP9|AV1/);
  });

  it('cuts the SIP peer\'s 2x2 composite into four named feeds the room sees, each in its own colour', async () => {
    const callId = await connect({
      video: 'sendrecv',
      sipVideoCodec: 'H264',
      splitIncoming: { rows: 2, cols: 2, names: ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] },
    });
    await sleep(3_000);

    const feeds = await alice.seenFeeds();

    const record = await hangUp(callId);
    const tiles = feeds.filter((f) => f.display?.startsWith('Desk '));
    expect(tiles.map((t) => t.display).sort()).toEqual(['Desk blue', 'Desk green', 'Desk red', 'Desk yellow']);
    for (const [i, name] of ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'].entries()) {
      const tile = tiles.find((t) => t.display === name)!;
      expect(nearestColor(tile.color, TILE_PALETTE), `${name} looks ${tile.color.join(',')}`).toBe(i);
      expect([tile.width, tile.height]).toEqual([320, 240]);
    }
    expect(record.quality?.sip.videoIn?.codec).toBe('H264');
  });

  it('shows the SIP peer the active speaker, and switches when another person starts speaking', async () => {
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'H264', layout: 'active-speaker' });
    await sleep(2_500);
    const first = await phoneSees('speaker-alice');

    await alice.speak(false);
    await bob.speak(true);
    await sleep(3_500);
    const second = await phoneSees('speaker-bob');

    await hangUp(callId);
    expect(first).toEqual(ALICE);
    expect(second).toEqual(BOB);
  });

  it('shows the SIP peer a grid of everyone', async () => {
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'H264', layout: 'grid' });
    await sleep(2_500);

    const left = await phoneSees('grid-left', { x: 0.05, y: 0.3, width: 0.4, height: 0.4 });
    const right = await phoneSees('grid-right', { x: 0.55, y: 0.3, width: 0.4, height: 0.4 });

    const record = await hangUp(callId);
    expect([left, right].sort()).toEqual([ALICE, BOB].sort());
    expect(record.media?.sipVideoCodec).toBe('H264');
  });

  it('offers the SIP peer no video m-line at all when video is off', async () => {
    const callId = await connect({ video: 'off' });

    const record = await hangUp(callId);
    const invite = (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    expect(invite, 'the phone received no INVITE for this call').toBeDefined();
    expect(invite!.sdp).toContain('m=audio');
    expect(invite!.sdp).not.toContain('m=video');
    expect(record.media?.video).toBe('off');
  });
});
