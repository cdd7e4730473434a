import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AudioPathStats, CallRecord, VideoPathStats, VideoStreamStats } from '../contracts/call-record.js';
import type { DialRequestInput } from '../contracts/dial-request.js';
import { analyseTone, hasTone, readWav, sliceSeconds, type ToneReport } from './audio-analysis.js';
import { Lab, type LabOptions, type LabPersonOptions } from './lab.js';
import type { RoomPerson } from './room-person.js';
import { SipRegistrar } from './sip-registrar.js';
import { PHONE_CALLER } from './sip-phone.js';
import { waitUntil } from './wait.js';
import { QUADRANT_COLORS, TILE_PALETTE, meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from './test-video.js';

export interface DemoOptions {
  /** Seconds the call stays connected before the demo hangs up. @default 6 */
  readonly talkS?: number;
  /**
   * Video both ways through the legacy-codec and split paths: the phone speaks H.264 only and sends a 2x2 composite;
   * the person's camera reaches it as H.264, the composite reaches the room as four feeds. @default false
   */
  readonly video?: boolean;
  /** Keep the lab folder (logs, recordings). @default false */
  readonly keep?: boolean;
  /** Which kind of room the phone is bridged into (see DEMO_ROOMS). @default "janus" */
  readonly room?: DemoRoomName;
  /**
   * Dial-in instead: the phone calls the lab's registrar, the INVITE is forked to the warm worker registered there,
   * routed by its dialled number into the Janus room and answered. @default false
   */
  readonly dialIn?: boolean;
  readonly out?: (line: string) => void;
}

export interface CallReport {
  readonly callId: string;
  readonly finalState: string;
  readonly endedBy: string | undefined;
  readonly failure: string | undefined;
  /** Milliseconds from enqueue. */
  readonly enqueueToInviteMs: number | undefined;
  readonly enqueueToAnswerMs: number | undefined;
  readonly enqueueToFirstAudioAtPhoneMs: number | undefined;
  readonly enqueueToFirstAudioAtPersonMs: number | undefined;
  readonly phoneHeard: ToneReport | undefined;
  readonly personHeard: ToneReport;
  readonly personToneHz: number;
  readonly phoneToneHz: number;
  readonly audioBothWays: boolean;
  readonly video: VideoCheck | undefined;
  readonly record: CallRecord;
}

/** What the video demo checks at both ends. */
export interface VideoCheck {
  /** The colour the phone showed, and whether it was the room person's. */
  readonly phoneSaw: Rgb | undefined;
  readonly phoneSawPerson: boolean;
  /** The feeds the room person saw from the SIP side: name, size and whether its colour is the expected quadrant. */
  readonly tiles: readonly { name: string; width: number; height: number; color: Rgb; expected: boolean }[];
  readonly ok: boolean;
}

export const PERSON_TONE_HZ = 440;
export const PHONE_TONE_HZ = 1000;
/** The room person's camera colour in the demo; checkVideo looks for it at the phone. */
export const PERSON_COLOR: Rgb = [200, 0, 200];
const TILE_NAMES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] as const;
/** The mean colour of the whole 2x2 composite: what a room sees of the phone's picture when it is not split. */
export const COMPOSITE_MEAN: Rgb = [0, 1, 2].map((c) =>
  Math.round(QUADRANT_COLORS.reduce((sum, q) => sum + (q[c] ?? 0), 0) / QUADRANT_COLORS.length),
) as unknown as Rgb;
/** How long after the talk time the video checks may wait for every picture to show (a loaded machine is slow). */
const VIDEO_WAIT_MS = 20_000;

/** The media of the video demo: H.264 to the phone, its composite split into four named feeds. */
export const VIDEO_DEMO_MEDIA: DialRequestInput['media'] = {
  video: 'sendrecv',
  sipVideoCodec: 'H264',
  splitIncoming: { rows: 2, cols: 2, names: [...TILE_NAMES] },
};

interface DemoRoom {
  /** What the demo says it starts. */
  readonly title: string;
  /** What the lab starts for this room, with the demo's person in it. */
  lab(person: LabPersonOptions): Partial<LabOptions>;
  /** The dial request's room; `tiles` names the split's tiles when the SIP picture is split. */
  room(lab: Lab, tiles: readonly string[]): DialRequestInput['room'];
  /** The demo's person, whose tone and camera are checked. */
  person(lab: Lab): RoomPerson | undefined;
  /** The SIP picture is split into the four feeds (the provider takes extra feeds), or reaches the room whole. */
  readonly split: boolean;
}

/**
 * The rooms the demo bridges into: what the lab starts for each, the room of the dial request, the person checked,
 * and whether the SIP picture is split into four feeds or reaches the room whole. Another provider is one entry.
 */
export const DEMO_ROOMS = {
  janus: {
    title: 'a Janus VideoRoom with one person',
    lab: (person) => ({ persons: [person] }),
    room: (lab) => ({ ...lab.endpoints.room, display: 'Phone' }),
    person: (lab) => lab.persons[0],
    split: true,
  },
  page: {
    title: "the Janus demo web app's VideoRoom with one person (page mode: the bot presses Start, types its name, presses Join)",
    lab: (person) => ({ persons: [person], webApps: true }),
    room: (lab) => ({
      provider: 'page',
      url: lab.webApps!.janusVideoRoomUrl(lab.endpoints.room.roomId),
      joinSteps: [
        { action: 'click', selector: '#start' },
        { action: 'fill', selector: '#username', value: 'display' },
        { action: 'click', selector: '#register' },
      ],
      display: 'Phone',
    }),
    person: (lab) => lab.persons[0],
    split: false,
  },
  chime: {
    title: 'the Amazon Chime SDK stand-in with a meeting and one person in it (the real SDK)',
    lab: (person) => ({ persons: [], chime: { persons: [person] } }),
    room: (lab, tiles) => lab.chimeRoom({ join: 'join-info', tiles: [...tiles] }),
    person: (lab) => lab.chimePersons[0],
    split: true,
  },
} as const satisfies Record<string, DemoRoom>;
export type DemoRoomName = keyof typeof DEMO_ROOMS;

/**
 * The main job on embedded defaults: start the lab, dial the phone into the room with the client library, show the
 * call's progress, hang up after a few seconds, and report what crossed the bridge. Exit code 0 only if audio
 * crossed both ways.
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (options.dialIn === true) return runDialInDemo(options, out);
  const started = Date.now();
  const video = options.video === true;
  const videoDir = video ? await mkdtemp(join(tmpdir(), 'roomline-demo-video-')) : undefined;
  const composite = videoDir === undefined ? undefined : join(videoDir, 'composite.mp4');
  if (composite !== undefined) {
    out('Making a 2x2 composite test video (the SIP room system\'s picture)...');
    await writeCompositeVideo(composite);
  }
  const room: DemoRoom = DEMO_ROOMS[options.room ?? 'janus'];
  out(
    `Starting the lab: SQS + DynamoDB emulators, Janus, a SIP phone (baresip${video ? ', H.264 video only' : ''}), ` +
      `${room.title}, a warm worker...`,
  );
  const alice = { display: 'Alice', toneHz: PERSON_TONE_HZ, ...(video ? { color: PERSON_COLOR } : {}) };
  const lab = await Lab.start({
    ...room.lab(alice),
    workers: 1,
    keepDir: options.keep ?? false,
    phone: { toneHz: PHONE_TONE_HZ, ...(composite === undefined ? {} : { videoCodecs: ['H264'], videoFile: composite }) },
  });
  try {
    await lab.pool!.waitReady(1);
    const worker = lab.pool!.workers.find((w) => w.state === 'ready');
    out(`Lab up in ${Date.now() - started} ms (worker warm in ${worker?.warmMs ?? '?'} ms). Folder: ${lab.dir}`);
    const split = video && room.split;
    const report = await dialAndMeasure(lab, {
      talkS: options.talkS ?? 6,
      out,
      ...(video ? { video: split ? 'split' : 'whole' } : {}),
      request: {
        room: room.room(lab, split ? TILE_NAMES : []),
        ...(video ? { media: split ? VIDEO_DEMO_MEDIA : { video: 'sendrecv', sipVideoCodec: 'H264' } } : {}),
      },
      person: room.person(lab),
    });
    printReport(report, out);
    return report.audioBothWays && (report.video === undefined || report.video.ok) ? 0 : 1;
  } finally {
    out('Tearing the lab down...');
    await lab.stop();
    if (videoDir !== undefined) await rm(videoDir, { recursive: true, force: true });
  }
}

/** The dial-in demo's PIN line, and the PIN that opens the Janus room on it. */
export const DIAL_IN_DEMO_NUMBER = '+15551230000';
export const DIAL_IN_DEMO_PIN = '2468';

/**
 * Dial-in: start the lab with its registrar, make the demo number a PIN line whose PIN opens the Janus room, have the
 * phone call it and enter the PIN after the spoken prompt, show the call's progress, let the phone hang up after a
 * few seconds, and report what crossed. Exit code 0 only if audio crossed both ways.
 */
async function runDialInDemo(options: DemoOptions, out: (line: string) => void): Promise<number> {
  if (options.video === true || (options.room ?? 'janus') !== 'janus') {
    out('--dial-in runs with the Janus room and audio only');
    return 2;
  }
  const started = Date.now();
  out('Starting the lab: SQS + DynamoDB emulators, Janus, a SIP phone, a Janus VideoRoom with one person, the dial-in');
  out('registrar (Kamailio), a warm worker registered there...');
  const lab = await Lab.start({
    persons: [{ display: 'Alice', toneHz: PERSON_TONE_HZ }],
    workers: 1,
    dialIn: true,
    keepDir: options.keep ?? false,
    phone: { toneHz: PHONE_TONE_HZ },
  });
  try {
    await lab.pool!.waitReady(1);
    await lab.registrar!.waitContacts(1);
    await lab.client.addRoute({ match: { kind: 'number', number: DIAL_IN_DEMO_NUMBER }, collectPin: true, description: 'demo PIN line' });
    await lab.client.addRoute({
      match: { kind: 'pin', number: DIAL_IN_DEMO_NUMBER, pin: DIAL_IN_DEMO_PIN },
      room: { ...lab.endpoints.room },
      callerName: 'name',
      limits: { maxDurationS: 120 },
    });
    out(`Lab up in ${Date.now() - started} ms. ${DIAL_IN_DEMO_NUMBER} is a PIN line; its PIN opens Janus room ${lab.endpoints.room.roomId}.`);
    out(`Folder: ${lab.dir}`);
    const person = lab.persons[0]!;
    const dialledAt = Date.now();
    const uri = SipRegistrar.uri(DIAL_IN_DEMO_NUMBER);
    out(`The phone calls ${uri}`);
    await lab.phone.call(uri);
    let lastShown = 0;
    const show = (record: CallRecord) => {
      for (const entry of record.history.slice(lastShown)) {
        out(`  +${String(Date.parse(entry.at) - dialledAt).padStart(5)} ms  ${entry.state.padEnd(9)} ${entry.detail ?? ''}`);
      }
      lastShown = record.history.length;
    };
    const answered = await lab.waitInboundCall(dialledAt, (r) => {
      show(r);
      return r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED';
    }, 60_000);
    let joinedAt: number | undefined;
    if (answered.state === 'CONNECTED') {
      out(`  +${String(Date.now() - dialledAt).padStart(5)} ms  the phone hears the prompt and enters the PIN (DTMF) and #`);
      await lab.phone.command('sndcode', `${DIAL_IN_DEMO_PIN}#`);
      const inRoom = await waitUntil(async () => (await person.participants()).some((p) => p.display === PHONE_CALLER.displayName), {
        timeoutMs: 30_000,
        what: 'the caller in the room',
      }).then(() => true, () => false);
      if (inRoom) {
        joinedAt = Date.now();
        out(`  +${String(joinedAt - dialledAt).padStart(5)} ms  the room person sees: ${(await person.participants()).map((p) => p.display ?? p.id).join(', ')}`);
        await sleep((options.talkS ?? 6) * 1000);
      }
      out('The phone hangs up');
      await lab.phone.command('hangup');
    }
    const record = await lab.client.waitForCall(
      answered.callId,
      (r) => {
        show(r);
        return r.state === 'ENDED' || r.state === 'FAILED';
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // what the phone heard is analysed from the room join on: before it, the prompts
    const report = await measure(lab, person, record, dialledAt, undefined, joinedAt);
    printReport(report, out, 'the phone dialling; the PIN entry included');
    return report.audioBothWays ? 0 : 1;
  } finally {
    out('Tearing the lab down...');
    await lab.stop();
  }
}

/** Dials the lab's phone into the lab's room, talks for `talkS` seconds, hangs up, and measures. */
export async function dialAndMeasure(
  lab: Lab,
  options: {
    talkS: number;
    out?: (line: string) => void;
    request?: Parameters<Lab['dialRequest']>[0];
    /** Check the pictures at both ends: the SIP picture split into the four tiles, or whole. @default no check */
    video?: 'split' | 'whole';
    /** The simulated person whose tone and camera are checked. @default the first person in the lab's room */
    person?: RoomPerson | undefined;
  },
): Promise<CallReport> {
  const out = options.out ?? (() => undefined);
  const person = options.person ?? lab.persons[0];
  if (person === undefined) throw new Error('the lab has no person in the room');
  const enqueuedAt = Date.now();
  const callId = await lab.client.enqueueDial(lab.dialRequest(options.request));
  out(`Enqueued call ${callId}`);
  let lastShown = 0;
  const show = (record: CallRecord) => {
    for (const entry of record.history.slice(lastShown)) {
      const offset = Date.parse(entry.at) - enqueuedAt;
      out(`  +${String(offset).padStart(5)} ms  ${entry.state.padEnd(9)} ${entry.detail ?? ''}`);
    }
    lastShown = record.history.length;
  };
  const connected = await lab.client.waitForCall(
    callId,
    (r) => {
      show(r);
      return r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED';
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  let video: VideoCheck | undefined;
  if (connected.state === 'CONNECTED') {
    await sleep(options.talkS * 1000);
    if (options.video !== undefined) video = await checkVideo(lab, person, options.video, Date.now() + VIDEO_WAIT_MS);
    out(`Requesting hangup after ${options.talkS} s`);
    await lab.client.requestHangup(callId);
  }
  const record = await lab.client.waitForCall(
    callId,
    (r) => {
      show(r);
      return r.state === 'ENDED' || r.state === 'FAILED';
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return measure(lab, person, record, enqueuedAt, video);
}

/**
 * Looks at both ends until both pictures show (or `deadline`): the phone's (the person's camera?) and the feeds the
 * person sees: the four tiles, or the phone's whole picture as one feed named "Phone" (the composite's mean colour).
 */
async function checkVideo(lab: Lab, person: RoomPerson, expect: 'split' | 'whole', deadline: number): Promise<VideoCheck> {
  for (;;) {
    const check = await lookAtVideo(lab, person, expect);
    if (check.ok || Date.now() > deadline) return check;
    await sleep(1_000);
  }
}

async function lookAtVideo(lab: Lab, person: RoomPerson, expect: 'split' | 'whole'): Promise<VideoCheck> {
  const snapshot = await lab.phone.snapshot(join(lab.dir, `phone-sees-${Date.now()}.png`)).catch(() => undefined);
  const phoneSaw = snapshot === undefined ? undefined : await meanColorOfImage(snapshot);
  const palette: Rgb[] = [PERSON_COLOR, [0, 0, 0], [128, 128, 128]];
  const phoneSawPerson = phoneSaw !== undefined && nearestColor(phoneSaw, palette) === 0;
  const feeds = await person.seenFeeds();
  const expected: { name: string; colors: readonly Rgb[]; index: number }[] =
    expect === 'split'
      ? TILE_NAMES.map((name, i) => ({ name, colors: TILE_PALETTE, index: i }))
      : [{ name: 'Phone', colors: [COMPOSITE_MEAN, [0, 0, 0]], index: 0 }];
  const tiles = expected.map(({ name, colors, index }) => {
    const feed = feeds.find((f) => f.display === name);
    return {
      name,
      width: feed?.width ?? 0,
      height: feed?.height ?? 0,
      color: feed?.color ?? ([0, 0, 0] as Rgb),
      expected: feed !== undefined && nearestColor(feed.color, colors) === index,
    };
  });
  return { phoneSaw, phoneSawPerson, tiles, ok: phoneSawPerson && tiles.every((t) => t.expected) };
}

async function measure(
  lab: Lab,
  person: RoomPerson,
  record: CallRecord,
  enqueuedAt: number,
  video?: VideoCheck,
  /** Analyse what the phone heard only from this time on (epoch ms; a PIN line's prompts come before the room). */
  phoneFrom?: number,
): Promise<CallReport> {
  const incoming = lab.phone.invitesSince(enqueuedAt)[0];
  const established = lab.phone.eventsOf('CALL_ESTABLISHED', enqueuedAt)[0];
  const rtp = lab.phone.eventsOf('CALL_RTPESTAB', enqueuedAt)[0];
  await lab.phone.nextEvent('CALL_CLOSED', { since: enqueuedAt, timeoutMs: 5_000 }).catch(() => undefined);
  const recordings = await lab.phone.receivedRecordings();
  const latest = recordings.at(-1);
  const heardPcm = latest === undefined || established === undefined ? undefined : await readWav(latest);
  const phoneHeard =
    heardPcm === undefined
      ? undefined
      : analyseTone(
          phoneFrom === undefined || established === undefined
            ? heardPcm
            : sliceSeconds(heardPcm, (phoneFrom - established.receivedAt) / 1000, Number.MAX_SAFE_INTEGER),
        );
  const hearing = await person.hearing(enqueuedAt);
  const answeredAt = record.timings?.answeredAt === undefined ? undefined : Date.parse(record.timings.answeredAt);
  const phoneFirstAudio =
    rtp === undefined || phoneHeard?.onsetS === undefined ? undefined : rtp.receivedAt + phoneHeard.onsetS * 1000;
  const audioBothWays =
    phoneHeard !== undefined && hasTone(phoneHeard, PERSON_TONE_HZ) && hasTone(hearing.tone, PHONE_TONE_HZ);
  return {
    callId: record.callId,
    finalState: record.state,
    endedBy: record.endedBy,
    failure: record.failure === undefined ? undefined : `${record.failure.code}: ${record.failure.reason}`,
    enqueueToInviteMs: incoming === undefined ? undefined : incoming.receivedAt - enqueuedAt,
    enqueueToAnswerMs: answeredAt === undefined ? undefined : answeredAt - enqueuedAt,
    enqueueToFirstAudioAtPhoneMs: phoneFirstAudio === undefined ? undefined : Math.round(phoneFirstAudio - enqueuedAt),
    enqueueToFirstAudioAtPersonMs: hearing.firstHeardAt === undefined ? undefined : hearing.firstHeardAt - enqueuedAt,
    phoneHeard,
    personHeard: hearing.tone,
    personToneHz: PERSON_TONE_HZ,
    phoneToneHz: PHONE_TONE_HZ,
    audioBothWays,
    video,
    record,
  };
}

function printReport(report: CallReport, out: (line: string) => void, origin = 'enqueue'): void {
  const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${v} ms`);
  const tone = (t: ToneReport | undefined, expected: number) =>
    t === undefined || t.onsetS === undefined
      ? 'nothing heard'
      : `${t.frequencyHz} Hz at ${t.levelDbfs} dBFS (purity ${t.purity}; expected ${expected} Hz: ${hasTone(t, expected) ? 'DETECTED' : 'NOT detected'})`;
  const q = report.record.quality;
  const audio = (label: string, s: { packets: number; lossRate?: number; jitterMs?: number; concealmentRate?: number; codec?: string } | undefined) =>
    s === undefined
      ? `${label}: no stream`
      : `${label}: ${s.codec ?? '?'} ${s.packets} packets, loss ${pct(s.lossRate)}, jitter ${s.jitterMs ?? 'n/a'} ms, concealed ${pct(s.concealmentRate)}`;
  out('');
  out('Roomline demo report');
  out('====================');
  out(`call ${report.callId}: ${report.finalState}${report.endedBy ? ` (ended by ${report.endedBy})` : ''}${report.failure ? ` ${report.failure}` : ''}`);
  out('');
  out(`Setup (from ${origin})`);
  if (origin === 'enqueue') out(`  INVITE at the phone ........ ${ms(report.enqueueToInviteMs)}`);
  out(`  answered ................... ${ms(report.enqueueToAnswerMs)}`);
  out(`  first audio at the phone ... ${ms(report.enqueueToFirstAudioAtPhoneMs)}`);
  out(`  first audio at the person .. ${ms(report.enqueueToFirstAudioAtPersonMs)}`);
  out('');
  out('Audio');
  out(`  room person → phone: ${tone(report.phoneHeard, report.personToneHz)}`);
  out(`  phone → room person: ${tone(report.personHeard, report.phoneToneHz)}`);
  out('');
  out('Quality (getStats at the bridge)');
  out(`  ${audio('SIP leg in ', q?.sip.audioIn)}`);
  out(`  ${audio('SIP leg out', q?.sip.audioOut)}`);
  out(`  ${audio('room in    ', q?.room.audioIn)}`);
  out(`  ${audio('room out   ', q?.room.audioOut)}`);
  const path = q?.audioPath;
  if (path !== undefined) {
    const way = (label: string, p: AudioPathStats) =>
      `${label}: ${p.mode === 'forward' ? 'forwarded as received' : 'decoded and encoded again'} (${p.forwardedFrames} frames forwarded, ${p.encodedFrames} encoded by the bridge, ${p.droppedFrames} dropped, ${p.skippedFrames} late${p.refused === undefined ? '' : `; not forwarded: ${p.refused}`})`;
    out(`  ${way('room → phone', path.roomToSip)}`);
    out(`  ${way('phone → room', path.sipToRoom)}`);
  }
  const videoWay = (label: string, far: string, p: VideoPathStats | undefined) => {
    if (p === undefined) return;
    out(
      `  ${label}: ${p.mode === 'forward' ? 'forwarded as received' : 'encoded again by the bridge'} (${p.forwardedFrames} frames forwarded, ${p.forwardedKeyFrames} of them keyframes, ${p.encodedFrames} encoded by the bridge, ${p.farEndKeyFrameRequests} keyframe requests from the ${far} passed on${p.refused === undefined ? '' : `; not forwarded: ${p.refused}`})`,
    );
  };
  videoWay('room → phone video', 'phone', q?.videoPath?.roomToSip);
  videoWay('phone → room video', 'room', q?.videoPath?.sipToRoom);
  const video = report.video;
  if (video !== undefined) {
    const stream = (label: string, v: VideoStreamStats | undefined) =>
      v === undefined
        ? `${label}: no stream`
        : `${label}: ${v.codec ?? '?'} ${v.width ?? '?'}x${v.height ?? '?'} at ${v.fps ?? '?'} fps (${v.frames} frames${v.freezes === undefined ? '' : `, ${v.freezes} freezes`})`;
    out('');
    out(`Video (SIP leg ${report.record.media?.video ?? '?'}${report.record.media?.sipVideoCodec ? `, ${report.record.media.sipVideoCodec}` : ''})`);
    out(`  ${stream('room → bridge ', q?.room.videoIn)}`);
    out(`  ${stream('bridge → SIP  ', q?.sip.videoOut)}`);
    out(`  ${stream('SIP → bridge  ', q?.sip.videoIn)}`);
    out(`  ${stream('bridge → room ', q?.room.videoOut)} (per tile feed; frames summed over the feeds)`);
    out(
      `  the phone showed rgb(${video.phoneSaw?.join(', ') ?? '?'}): ${video.phoneSawPerson ? 'the room person\'s camera' : 'NOT the room person\'s camera'}`,
    );
    for (const tile of video.tiles) {
      out(`  the person saw "${tile.name}" ${tile.width}x${tile.height} rgb(${tile.color.join(', ')}): ${tile.expected ? 'the expected quadrant' : 'WRONG'}`);
    }
  }
  out('');
  out(report.audioBothWays ? 'RESULT: audio crossed the bridge both ways' : 'RESULT: audio did NOT cross both ways');
  if (video !== undefined) {
    out(
      video.ok
        ? `RESULT: video crossed both ways, H.264 to the phone, its composite ${video.tiles.length > 1 ? 'split into four feeds' : 'whole in the room'}`
        : 'RESULT: video did NOT check out',
    );
  }
}

function pct(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`;
}
