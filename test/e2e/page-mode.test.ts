import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { z } from 'zod';
import type { pageRoomSchema } from '../../contracts/rooms/page.js';
import { hasTone } from '../../lab/audio-analysis.js';
import { PERSON_COLOR, dialAndMeasure } from '../../lab/demo-call.js';
import { LAB_ROOM_IDS } from '../../lab/janus-server.js';
import type { Lab } from '../../lab/lab.js';
import { labSite } from '../../lab/room-person.js';
import { writeCompositeVideo } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { untilPhoneHears } from '../support/heard.js';
import { isFinal, states, useLab } from '../support/lab.js';

/**
 * Page mode on the real lab, against a meeting web app nobody here wrote: Debian's janus-demos VideoRoom page, served
 * inside the lab's namespace and backed by the lab's Janus, joined by the bot as a person joins it (press Start, type
 * a name, press Join) or through a `window.roomline` its deployer added. The SIP side is a video phone (H.264,
 * sending a 2x2 composite); the room person joins the same VideoRoom through the lab's own participant page.
 */
const composite = join(tmpdir(), `roomline-page-mode-${process.pid}.mp4`);
let lab: Lab;

beforeAll(async () => {
  await writeCompositeVideo(composite, { durationS: 120 });
});
useLab({ workers: 1, webApps: true, phone: { videoCodecs: ['H264'], videoFile: composite }, persons: [] }, async (started) => {
  lab = started;
  // the demo's person colour: dialAndMeasure's picture check looks for it at the phone
  await lab.addPerson({ display: 'Alice', toneHz: 440, color: PERSON_COLOR });
});
afterAll(async () => {
  await rm(composite, { force: true });
});

type PageRoomInput = z.input<typeof pageRoomSchema>;

const JOIN_STEPS: NonNullable<PageRoomInput['joinSteps']> = [
  { action: 'click', selector: '#start' },
  { action: 'fill', selector: '#username', value: 'display' },
  { action: 'click', selector: '#register' },
];

function janusDemoRoom(options: { roomId?: number; withApi?: boolean; display?: string } = {}): PageRoomInput {
  const url = lab.webApps!.janusVideoRoomUrl(options.roomId ?? lab.endpoints.room.roomId, { withApi: options.withApi === true });
  return {
    provider: 'page',
    url,
    ...(options.withApi === true ? {} : { joinSteps: [...JOIN_STEPS] }),
    display: options.display ?? 'Phone',
  };
}

async function waitFinal(callId: string): Promise<CallRecord> {
  return lab.client.waitForCall(callId, isFinal, { timeoutMs: 30_000 });
}

describe('page mode: the customer\'s own web app as the room', () => {
  it('joins the Janus demo page as a person does and carries tones and pictures both ways', async () => {
    const report = await dialAndMeasure(lab, {
      talkS: 5,
      request: { room: janusDemoRoom(), media: { video: 'sendrecv', sipVideoCodec: 'H264' } },
      video: 'whole',
    });

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(states(report.record)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED']);
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    expect(report.video?.phoneSawPerson, `the phone saw ${report.video?.phoneSaw?.join(',')}`).toBe(true);
    const phoneFeed = report.video?.tiles.find((t) => t.name === 'Phone');
    expect(phoneFeed?.expected, `Alice saw ${JSON.stringify(report.video?.tiles)}`).toBe(true);
    expect([phoneFeed!.width, phoneFeed!.height]).toEqual([640, 480]);
    expect(report.record.media).toEqual({ audio: true, video: 'negotiated', sipVideoCodec: 'H264', sipAudioCodec: 'opus' });
    expect(report.record.request?.room).toEqual(janusDemoRoom());
  });

  it('joins through the app\'s window.roomline and ends the call when the people it lists have left', async () => {
    const roomId = LAB_ROOM_IDS[2];
    const bob = await lab.addPerson({ display: 'Bob', toneHz: 700 }, roomId);
    const since = Date.now();
    const callId = await lab.client.enqueueDial(
      lab.dialRequest({ room: janusDemoRoom({ roomId, withApi: true }), limits: { ringTimeoutS: 20, maxDurationS: 120, emptyRoomTimeoutS: 2 } }),
    );
    const connected = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 30_000 });
    expect(connected.state, JSON.stringify(connected.failure)).toBe('CONNECTED');
    // the bridge has Bob: the phone hears him
    await untilPhoneHears(lab.phone, { since, hz: 700, seconds: 0.5 });
    const leftAt = Date.now();

    await bob.leave();

    const record = await waitFinal(callId);
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('room');
    expect(Date.parse(record.timings!.endedAt!) - leftAt).toBeGreaterThanOrEqual(1_900);
    const log = await readFile(lab.pool!.workers.find((w) => w.callId === callId)!.logFile, 'utf8');
    expect(log).toContain("joining through the app's window.roomline");
  });

  it('relays an app that runs in a cross-origin frame of the page: tones both ways through the frame', async () => {
    const embedded = lab.webApps!.embeddedVideoRoom(lab.endpoints.room.roomId);

    const report = await dialAndMeasure(lab, {
      talkS: 4,
      request: { room: { provider: 'page', url: embedded.url, origins: [embedded.origin], display: 'Phone' } },
    });

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    expect(report.record.quality?.room.audioIn?.packets, 'the frame\'s statistics reached the record').toBeGreaterThan(50);
  });

  it('fails a join step that finds nothing as ROOM_JOIN_FAILED, naming the step, without ringing the phone', async () => {
    const since = Date.now();
    const room: PageRoomInput = { ...janusDemoRoom(), joinSteps: [{ action: 'click', selector: '#no-such-button' }] };

    const callId = await lab.client.enqueueDial(lab.dialRequest({ room }));

    const record = await waitFinal(callId);
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'ROOM_JOIN_FAILED', fault: 'caller', retryable: false });
    expect(record.failure?.reason).toContain('join step 1 (click "#no-such-button"): no such element within 15 s');
    expect(lab.phone.invitesSince(since)).toHaveLength(0);
  });

  it('keeps the secret query parameters and the join secrets out of the record and every log line', async () => {
    const token = `tok-${Date.now()}-secret`;
    const password = `pw-${Date.now()}-secret`;
    const room: PageRoomInput = {
      ...janusDemoRoom({ display: 'Guest' }),
      secretParams: { token },
      secrets: { password },
      // the demo has no password field: the secret is typed into its name field, then the name is typed over it
      joinSteps: [
        { action: 'click', selector: '#start' },
        { action: 'fill', selector: '#username', value: { secret: 'password' } },
        { action: 'fill', selector: '#username', value: 'display' },
        { action: 'click', selector: '#register' },
      ],
    };
    const callId = await lab.client.enqueueDial(lab.dialRequest({ room, limits: { ringTimeoutS: 20, maxDurationS: 3, emptyRoomTimeoutS: 30 } }));

    const record = await waitFinal(callId);

    expect(record.state, JSON.stringify(record.failure)).toBe('ENDED');
    const worker = lab.pool!.workers.find((w) => w.callId === callId)!;
    await waitUntil(() => worker.state === 'exited', { timeoutMs: 15_000, what: 'the worker to exit' });
    const log = await readFile(worker.logFile, 'utf8');
    for (const secret of [token, password]) {
      expect(JSON.stringify(record)).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
    expect(record.request?.room).not.toHaveProperty('secretParams');
    expect(record.request?.room).not.toHaveProperty('secrets');
  });
});

describe('the page-mode wrapper of RTCPeerConnection', () => {
  it('is transparent to the app: instanceof, statics, subclasses, its configuration and encoded insertable streams', async () => {
    const browser = lab.personBrowser!;
    const page = await browser.newPage(await labSite());
    await page.evaluateOnNewDocument(await pageModeScript());
    await browser.load(page, 'person.html');

    const result = await page.evaluate(async () => {
      const pc = new RTCPeerConnection({ encodedInsertableStreams: true } as RTCConfiguration);
      class Sub extends RTCPeerConnection {
        answer(): number {
          return 42;
        }
      }
      const sub = new Sub();
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      const sender = pc.addTrack(stream.getAudioTracks()[0]!, stream);
      const encoded = (sender as unknown as { createEncodedStreams(): { readable: ReadableStream } }).createEncodedStreams();
      const devices = await navigator.mediaDevices.enumerateDevices();
      const out = {
        instanceOf: pc instanceof RTCPeerConnection,
        prototype: Object.getPrototypeOf(pc) === RTCPeerConnection.prototype,
        name: RTCPeerConnection.name,
        statics: typeof RTCPeerConnection.generateCertificate === 'function',
        configuration: (pc.getConfiguration() as { encodedInsertableStreams?: boolean }).encodedInsertableStreams === true,
        subclass: sub instanceof Sub && sub instanceof RTCPeerConnection && sub.answer() === 42,
        encoded: encoded.readable instanceof ReadableStream,
        tracks: stream.getTracks().map((t) => `${t.kind}:${t.readyState}`),
        devices: devices.map((d) => `${d.kind}:${d.label}`),
      };
      pc.close();
      sub.close();
      return out;
    });
    await page.close();

    expect(result).toEqual({
      instanceOf: true,
      prototype: true,
      name: 'RTCPeerConnection',
      statics: true,
      configuration: true,
      subclass: true,
      encoded: true,
      tracks: ['audio:live', 'video:live'],
      devices: ['audioinput:Roomline SIP audio', 'videoinput:Roomline SIP video', 'audiooutput:Default'],
    });
  });
});

async function pageModeScript(): Promise<string> {
  const { botPageDir } = await import('../../worker/paths.js');
  return readFile(join(botPageDir(), 'page-mode.js'), 'utf8');
}
