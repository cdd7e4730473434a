import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallRecord } from '../contracts/call-record.js';
import type { DialRequestInput } from '../contracts/dial-request.js';
import { analyseTone, hasTone, readWav, sliceSeconds, type ToneReport } from './audio-analysis.js';
import type { Lab } from './lab.js';
import type { RoomPerson } from './room-person.js';
import { QUADRANT_COLORS, TILE_PALETTE, meanColorOfImage, nearestColor, type Rgb } from './test-video.js';

/**
 * One measured demo call: the lab's phone dialled into the lab's room, what crossed the bridge each way (tones,
 * pictures) and how soon, as the demo reports it and the end-to-end tests check it.
 */

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
/** The names of the four feeds the video demo splits the phone's picture into. */
export const DEMO_TILE_NAMES = ['Desk red', 'Desk green', 'Desk blue', 'Desk yellow'] as const;
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
  splitIncoming: { rows: 2, cols: 2, names: [...DEMO_TILE_NAMES] },
};

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
      ? DEMO_TILE_NAMES.map((name, i) => ({ name, colors: TILE_PALETTE, index: i }))
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

/**
 * What crossed the call, from the phone's events and recordings, the person's hearing and the call's record: the
 * report both demos print.
 */
export async function measure(
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
