import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { hasTone } from '../../lab/audio-analysis.js';
import { dialAndMeasure, PERSON_COLOR } from '../../lab/demo-call.js';
import type { Lab } from '../../lab/lab.js';
import { writeCompositeVideo } from '../../lab/test-video.js';
import { WorkerPool } from '../../lab/worker-pool.js';
import { CHROMIUM_BUILDS, type ChromiumBuild } from '../../worker/chromium-builds.js';
import { states, useLab } from '../support/lab.js';

/**
 * Each supported Chromium build (`ROOMLINE_CHROMIUM=system|sparticuz`) runs the bot page of a real call: an audio
 * call (tones heard at both ends) and an H.264 video call (the phone, H.264 only, shows the room person's camera; the
 * room person sees the phone's picture). One lab; each build gets its own warm worker.
 */
let lab: Lab;
const composite = join(tmpdir(), `roomline-builds-composite-${process.pid}.mp4`);
beforeAll(async () => {
  await writeCompositeVideo(composite, { durationS: 120 });
});
useLab(
  { workers: 0, phone: { videoCodecs: ['H264'], videoFile: composite }, persons: [{ display: 'Alice', toneHz: 440, color: PERSON_COLOR }] },
  (started) => {
    lab = started;
  },
);
afterAll(async () => {
  await rm(composite, { force: true });
});

/** What the worker's Chromium said of itself when it launched (its executable and version). */
async function launchedChromium(pool: WorkerPool): Promise<{ chromium: string; version: string }> {
  for (const worker of pool.workers) {
    const text = await readFile(worker.logFile, 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => l.includes('"msg":"Chromium launched"'));
    if (line !== undefined) return JSON.parse(line) as { chromium: string; version: string };
  }
  throw new Error('no worker logged its Chromium launch');
}

describe.each(CHROMIUM_BUILDS)('the %s Chromium build', (build: ChromiumBuild) => {
  let pool: WorkerPool;
  beforeAll(async () => {
    // the sparticuz build runs single-process without Chromium's sandbox: it must be turned off to run it
    const sandbox = build === 'sparticuz' ? { ROOMLINE_CHROMIUM_SANDBOX: 'off' } : {};
    pool = new WorkerPool({
      size: 1,
      env: { ...process.env, ...lab.endpoints.env, ROOMLINE_CHROMIUM: build, ...sandbox },
      dir: lab.dir,
      name: build,
    });
    await pool.waitReady(1, 90_000);
  });
  afterAll(async () => {
    await pool?.stop();
  });
  beforeEach(() => {
    // a red test shows what the build's worker said
    onTestFailed(async () => {
      for (const worker of pool.workers.slice(-2)) {
        const text = await readFile(worker.logFile, 'utf8').catch(() => '');
        process.stderr.write(`\n--- ${worker.logFile} (last lines) ---\n${text.trim().split('\n').slice(-25).join('\n')}\n`);
      }
    });
  });

  it('carries an audio call both ways, its encoded frames forwarded without re-encoding', async () => {
    await pool.waitReady(1, 90_000);

    const report = await dialAndMeasure(lab, { talkS: 3 });

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(states(report.record)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED']);
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    expect(report.record.quality?.sip.audioIn?.lossRate).toBeLessThan(0.01);
    expect(report.record.quality?.audioPath?.roomToSip).toMatchObject({ mode: 'forward' });
    expect(report.record.quality?.audioPath?.sipToRoom).toMatchObject({ mode: 'forward' });
    expect(report.record.quality?.audioPath?.roomToSip.forwardedFrames).toBeGreaterThan(100);
    const launched = await launchedChromium(pool);
    // the package unpacks its browser to the temporary folder; the system build is the distribution's binary
    if (build === 'sparticuz') expect(launched.chromium).toMatch(/^\/tmp\/chromium$/);
    else expect(launched.chromium).toMatch(/^\/usr\/(bin|lib)\/chromium/);
  });

  it('carries an H.264 video call: the phone shows the room person, the room sees the phone', async () => {
    await pool.waitReady(1, 90_000);

    const report = await dialAndMeasure(lab, {
      talkS: 3,
      request: { media: { video: 'sendrecv', sipVideoCodec: 'H264' } },
      video: 'whole',
    });

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(report.video?.phoneSawPerson, `the phone saw ${report.video?.phoneSaw?.join(',')}`).toBe(true);
    const phoneFeed = report.video?.tiles.find((t) => t.name === 'Phone');
    expect(phoneFeed?.expected, `Alice saw ${JSON.stringify(report.video?.tiles)}`).toBe(true);
    expect(report.record.media).toMatchObject({ audio: true, video: 'negotiated', sipVideoCodec: 'H264' });
    expect(report.record.quality?.sip.videoOut?.codec).toBe('H264');
    expect(report.record.quality?.sip.videoIn?.codec).toBe('H264');
  });
});
