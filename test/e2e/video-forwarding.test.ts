import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { nearestColor, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { untilPhoneHeardFor } from '../support/heard.js';
import { useVideoLab } from '../support/video-lab.js';

/**
 * Encoded video forwarding on the real lab: the room person's camera (Chromium, VP8 through the Janus VideoRoom) goes
 * to a VP8 phone (baresip, libvpx) as the room sent it, undecoded by the bridge, while she is the only picture; a
 * second camera in the room switches the phone to the composed grid and back. The phone's picture (a green video
 * file, VP8) goes to the room as it came. The phone and the people decode what they get, and the record counts the
 * frames forwarded and the keyframe requests passed on (written every second while the call is up, so a test can
 * wait for the bridge to forward again).
 */
const ALICE: Rgb = [200, 0, 200];
const BOB: Rgb = [0, 200, 200];
const PHONE: Rgb = [0, 160, 0];
const COLOURS = [ALICE, BOB, [0, 0, 0]] as const;
const GRID_LEFT = { x: 0.05, y: 0.3, width: 0.4, height: 0.4 };
const GRID_RIGHT = { x: 0.55, y: 0.3, width: 0.4, height: 0.4 };
const video = useVideoLab({
  phone: { videoCodecs: ['VP8'], quadrants: [PHONE, PHONE, PHONE, PHONE] },
  people: [{ display: 'Alice', toneHz: 440, color: ALICE }],
  workerEnv: { ROOMLINE_QUALITY_INTERVAL_S: '1' },
});
const { connect, hangUp } = video;

/** Waits until the call's record (its quality, written every second) satisfies `check`; resolves with the record. */
function untilRecord(callId: string, what: string, check: (record: CallRecord) => boolean): Promise<CallRecord> {
  return video.lab.client.waitForCall(callId, check, { timeoutMs: 15_000 }).catch((error: unknown) => {
    throw new Error(`waiting for ${what}: ${String(error)}`);
  });
}

/** The phone's picture among the feeds a person sees. */
const phoneFeed = (feeds: Awaited<ReturnType<RoomPerson['seenFeeds']>>) => feeds.find((f) => nearestColor(f.color, [PHONE, ALICE, [0, 0, 0]]) === 0);

describe('video forwarded to the phone without re-encoding', () => {
  it('carries the only camera\'s VP8 frames to a VP8 phone as they came, and the phone decodes them', async () => {
    // Prepare
    const since = Date.now();
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'VP8', layout: 'active-speaker' });
    await untilRecord(callId, 'the bridge to forward the camera', (r) => r.quality?.videoPath?.roomToSip?.mode === 'forward');

    // Act: the phone decodes what was forwarded, for about 4 s of the call
    await video.untilPhoneSees(ALICE, { name: 'forwarded', palette: COLOURS });
    await untilPhoneHeardFor(video.lab.phone, since, 4);
    const later = await video.phoneSees('forwarded-later', COLOURS);
    const record = await hangUp(callId);

    // Assess
    expect(later).toEqual(ALICE);
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
    await untilRecord(callId, 'the bridge to forward Alice alone', (r) => r.quality?.videoPath?.roomToSip?.mode === 'forward');
    await video.untilPhoneSees(ALICE, { name: 'alone', palette: COLOURS });

    // Act: Bob's camera makes a grid; when he leaves, Alice is forwarded again
    const bob = await video.lab.addPerson({ display: 'Bob', toneHz: 660, color: BOB, record: false });
    let halves: Rgb[] = [];
    await waitUntil(
      async () => {
        halves = [await video.phoneSees('grid-left', COLOURS, GRID_LEFT), await video.phoneSees('grid-right', COLOURS, GRID_RIGHT)];
        return JSON.stringify([...halves].sort()) === JSON.stringify([ALICE, BOB].sort());
      },
      { timeoutMs: 15_000, intervalMs: 200, what: () => `Alice and Bob side by side at the phone (it showed ${JSON.stringify(halves)})` },
    );
    const [left, right] = halves;
    // the bridge composed (and encoded) the grid for a second at least before Bob leaves
    await untilRecord(callId, 'the bridge to encode the grid', (r) => (r.quality?.videoPath?.roomToSip?.encodedFrames ?? 0) > 30);
    await bob.leave();
    video.lab.persons.splice(video.lab.persons.indexOf(bob), 1);
    await untilRecord(callId, 'the bridge to forward Alice again', (r) => {
      const path = r.quality?.videoPath?.roomToSip;
      return path?.mode === 'forward' && path.switches >= 3;
    });
    await video.untilPhoneSees(ALICE, { name: 'alone-again', palette: COLOURS });
    const record = await hangUp(callId);

    // Assess
    expect([left, right].sort()).toEqual([ALICE, BOB].sort());
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
    const alice = video.person('Alice');
    await untilRecord(callId, "the bridge to forward the phone's picture", (r) => r.quality?.videoPath?.sipToRoom?.mode === 'forward');
    const seenByAlice = await video.untilSeen(alice, "the phone's picture", (feeds) => phoneFeed(feeds) !== undefined);

    // Act: a newcomer subscribes to the bot's feed; Janus asks the bot for a keyframe, the bot asks the phone
    const carol = await video.lab.addPerson({ display: 'Carol', toneHz: 880, record: false });
    const seenByCarol = await video.untilSeen(carol, "the phone's picture", (feeds) => phoneFeed(feeds) !== undefined);
    await carol.leave();
    video.lab.persons.splice(video.lab.persons.indexOf(carol), 1);
    // both directions forwarding when the call ends (the room's camera to the phone, the phone's picture to the room)
    await untilRecord(callId, "Carol's keyframe request passed on, and both directions forwarded after she left", (r) => {
      const path = r.quality?.videoPath;
      const sipToRoom = path?.sipToRoom;
      return (
        sipToRoom?.mode === 'forward' &&
        sipToRoom.forwardedFrames > 60 &&
        sipToRoom.farEndKeyFrameRequests >= 1 &&
        sipToRoom.forwardedKeyFrames >= 2 &&
        path?.roomToSip?.mode === 'forward'
      );
    });
    const record = await hangUp(callId);

    // Assess
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
