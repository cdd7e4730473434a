import { beforeEach, describe, expect, it } from 'vitest';
import { TILE_PALETTE, nearestColor, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { untilPhoneHeardFor } from '../support/heard.js';
import { useVideoLab } from '../support/video-lab.js';

/**
 * Video across the bridge, on the real lab. The SIP peer is a legacy-style video phone: baresip with H.264 (avcodec)
 * only, sending a 2x2 composite of four colours as a room system would. The room has two people with cameras of their
 * own colours; the room publishes VP8.
 */
const ALICE: Rgb = [200, 0, 200];
const BOB: Rgb = [0, 200, 200];
const PEOPLE = [ALICE, BOB, [0, 0, 0]] as const;
const TILES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] as const;
const video = useVideoLab({
  phone: { videoCodecs: ['H264'] },
  people: [
    { display: 'Alice', toneHz: 440, color: ALICE },
    { display: 'Bob', toneHz: 660, color: BOB },
  ],
  // the record's quality every second while a call is up, so a test can wait for frames sent
  workerEnv: { ROOMLINE_QUALITY_INTERVAL_S: '1' },
});
const { connect, hangUp } = video;
beforeEach(async () => {
  await video.person('Alice').speak(true);
  await video.person('Bob').speak(false);
});

describe('video across the bridge', () => {
  it('sends a room person\'s VP8 picture to an H.264-only SIP peer as H.264, and the peer decodes it', async () => {
    const since = Date.now();
    const callId = await connect({ video: 'sendrecv', sipVideoCodec: 'H264' });

    await video.untilPhoneSees(ALICE, { name: 'h264', palette: PEOPLE });
    await untilPhoneHeardFor(video.lab.phone, since, 3);
    // a stream of H.264, not a lone keyframe: more than 60 frames sent (two seconds at 30 fps; longer on a busy machine)
    await video.lab.client.waitForCall(callId, (r) => (r.quality?.sip.videoOut?.frames ?? 0) > 60, { timeoutMs: 20_000 });

    const record = await hangUp(callId);
    expect(record.media).toEqual({ audio: true, video: 'negotiated', sipVideoCodec: 'H264', sipAudioCodec: 'opus' });
    expect(record.quality?.sip.videoOut).toMatchObject({ codec: 'H264', width: 640, height: 480 });
    expect(record.quality?.sip.videoOut?.frames).toBeGreaterThan(60);
    expect(record.quality?.room.videoIn?.codec).toBe('VP8');
    const invite = (await video.lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    const videoSection = invite?.sdp.split('m=').find((s) => s.startsWith('video')) ?? '';
    expect(videoSection).toContain('H264/90000');
    expect(videoSection).not.toMatch(/VP8|VP9|AV1/);
  });

  it('cuts the SIP peer\'s 2x2 composite into four named feeds the room sees, each in its own colour', async () => {
    const callId = await connect({
      video: 'sendrecv',
      sipVideoCodec: 'H264',
      splitIncoming: { rows: 2, cols: 2, names: [...TILES] },
    });

    // each tile named and in its quadrant's colour (a tile not yet decoded is black)
    const feeds = await video.untilSeen(video.person('Alice'), 'the four tiles in their colours', (seen) =>
      TILES.every((name, i) => seen.some((f) => f.display === name && nearestColor(f.color, TILE_PALETTE) === i)),
    );

    const record = await hangUp(callId);
    const tiles = feeds.filter((f) => f.display?.startsWith('Desk '));
    expect(tiles.map((t) => t.display).sort()).toEqual(['Desk blue', 'Desk green', 'Desk red', 'Desk yellow']);
    for (const [i, name] of TILES.entries()) {
      const tile = tiles.find((t) => t.display === name)!;
      expect(nearestColor(tile.color, TILE_PALETTE), `${name} looks ${tile.color.join(',')}`).toBe(i);
      expect([tile.width, tile.height]).toEqual([320, 240]);
    }
    expect(record.quality?.sip.videoIn?.codec).toBe('H264');
  });

  it('shows the SIP peer the active speaker, and switches when another person starts speaking', async () => {
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'H264', layout: 'active-speaker' });
    await video.untilPhoneSees(ALICE, { name: 'speaker-alice', palette: PEOPLE });

    await video.person('Alice').speak(false);
    await video.person('Bob').speak(true);

    await video.untilPhoneSees(BOB, { name: 'speaker-bob', palette: PEOPLE });
    await hangUp(callId);
  });

  it('shows the SIP peer a grid of everyone', async () => {
    const callId = await connect({ video: 'sendonly', sipVideoCodec: 'H264', layout: 'grid' });

    let halves: Rgb[] = [];
    await waitUntil(
      async () => {
        halves = [
          await video.phoneSees('grid-left', PEOPLE, { x: 0.05, y: 0.3, width: 0.4, height: 0.4 }),
          await video.phoneSees('grid-right', PEOPLE, { x: 0.55, y: 0.3, width: 0.4, height: 0.4 }),
        ];
        return JSON.stringify([...halves].sort()) === JSON.stringify([ALICE, BOB].sort());
      },
      { timeoutMs: 15_000, intervalMs: 200, what: () => `Alice and Bob side by side at the phone (it showed ${JSON.stringify(halves)})` },
    );

    const record = await hangUp(callId);
    expect(record.media?.sipVideoCodec).toBe('H264');
  });

  it('offers the SIP peer no video m-line at all when video is off', async () => {
    const callId = await connect({ video: 'off' });

    const record = await hangUp(callId);
    const invite = (await video.lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    expect(invite, 'the phone received no INVITE for this call').toBeDefined();
    expect(invite!.sdp).toContain('m=audio');
    expect(invite!.sdp).not.toContain('m=video');
    expect(record.media?.video).toBe('off');
  });
});
