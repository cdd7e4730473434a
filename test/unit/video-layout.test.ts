import { describe, expect, it } from 'vitest';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { evenRect } from '../../bot-page/media/video-frames.js';
import { tilesOf } from '../../bot-page/media/sip-video-router.js';
import { capMedia } from '../../worker/call-session.js';

describe('video layout rules', () => {
  it('cuts a rows x cols split into tiles row by row, named by the request or after the bot', () => {
    const tiles = tilesOf({ rows: 2, cols: 2, names: ['A', 'B'] }, 'Room system');

    expect(tiles).toEqual([
      { name: 'A', x: 0, y: 0, width: 0.5, height: 0.5 },
      { name: 'B', x: 0.5, y: 0, width: 0.5, height: 0.5 },
      { name: 'Room system 3', x: 0, y: 0.5, width: 0.5, height: 0.5 },
      { name: 'Room system 4', x: 0.5, y: 0.5, width: 0.5, height: 0.5 },
    ]);
  });

  it('takes explicit rectangles as they are', () => {
    const tiles = tilesOf({ tiles: [{ x: 0.1, y: 0.2, width: 0.3, height: 0.4, name: 'Lectern' }, { x: 0, y: 0, width: 1, height: 0.5 }] }, 'Bot');

    expect(tiles).toEqual([
      { name: 'Lectern', x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
      { name: 'Bot 2', x: 0, y: 0, width: 1, height: 0.5 },
    ]);
  });

  it('aligns tile rectangles to even pixels inside the frame, as I420 frames require', () => {
    expect(evenRect({ x: 213.3, y: 159.9, width: 213.3, height: 160.1 }, 640, 480)).toEqual({ x: 212, y: 158, width: 212, height: 160 });
    expect(evenRect({ x: 630, y: 470, width: 100, height: 100 }, 640, 480)).toEqual({ x: 630, y: 470, width: 10, height: 10 });
  });

  it('caps the requested video size and rate by the worker\'s configuration', () => {
    const { media } = parseDialRequest({
      version: 1,
      to: 'sip:a@example.com',
      room: { provider: 'janus', serverUrl: 'ws://j', roomId: 1 },
      media: { video: 'sendrecv', width: 1920, height: 1080, fps: 60 },
    });

    expect(capMedia(media, { width: 1280, height: 720, fps: 30 })).toMatchObject({ width: 1280, height: 720, fps: 30 });
    expect(capMedia({ ...media, width: 320, height: 240, fps: 15 }, { width: 1280, height: 720, fps: 30 })).toMatchObject({
      width: 320,
      height: 240,
      fps: 15,
    });
  });
});

describe('frame pacing', () => {
  it('passes every frame of a source at the cap rate despite jitter, and halves a source at twice the rate', async () => {
    const { FramePacer } = await import('../../bot-page/media/video-frames.js');
    const atCap = new FramePacer(30);
    const jittered = Array.from({ length: 300 }, (_, i) => i * (1000 / 30) + (i % 2 === 0 ? 9 : -9));
    const twice = new FramePacer(30);
    const fast = Array.from({ length: 600 }, (_, i) => i * (1000 / 60));

    expect(jittered.filter((t) => atCap.admit(t))).toHaveLength(300);
    const passed = fast.filter((t) => twice.admit(t)).length;
    expect(passed).toBeGreaterThanOrEqual(299);
    expect(passed).toBeLessThanOrEqual(301);
  });
});
