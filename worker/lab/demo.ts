import { setTimeout as sleep } from 'node:timers/promises';
import type { CallRecord } from '../../contracts/call-record.js';
import { analyseTone, hasTone, readWav, type ToneReport } from './audio-analysis.js';
import { Lab } from './lab.js';

export interface DemoOptions {
  /** Seconds the call stays connected before the demo hangs up. @default 6 */
  readonly talkS?: number;
  /** Keep the lab folder (logs, recordings). @default false */
  readonly keep?: boolean;
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
  readonly record: CallRecord;
}

const PERSON_TONE_HZ = 440;
const PHONE_TONE_HZ = 1000;

/**
 * The main job on embedded defaults: start the lab, dial the phone into the room with the client library, show the
 * call's progress, hang up after a few seconds, and report what crossed the bridge. Exit code 0 only if audio
 * crossed both ways.
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = Date.now();
  out('Starting the lab: SQS + DynamoDB emulators, Janus, a SIP phone (baresip), a room with one person, a warm worker...');
  const lab = await Lab.start({
    workers: 1,
    keepDir: options.keep ?? false,
    phone: { toneHz: PHONE_TONE_HZ },
    persons: [{ display: 'Alice', toneHz: PERSON_TONE_HZ }],
  });
  try {
    await lab.pool!.waitReady(1);
    const worker = lab.pool!.workers.find((w) => w.state === 'ready');
    out(`Lab up in ${Date.now() - started} ms (worker warm in ${worker?.warmMs ?? '?'} ms). Folder: ${lab.dir}`);
    const report = await dialAndMeasure(lab, { talkS: options.talkS ?? 6, out });
    printReport(report, out);
    return report.audioBothWays ? 0 : 1;
  } finally {
    out('Tearing the lab down...');
    await lab.stop();
  }
}

/** Dials the lab's phone into the lab's room, talks for `talkS` seconds, hangs up, and measures. */
export async function dialAndMeasure(
  lab: Lab,
  options: { talkS: number; out?: (line: string) => void; request?: Parameters<Lab['dialRequest']>[0] },
): Promise<CallReport> {
  const out = options.out ?? (() => undefined);
  const person = lab.persons[0];
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
  if (connected.state === 'CONNECTED') {
    await sleep(options.talkS * 1000);
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
  return measure(lab, record, enqueuedAt);
}

async function measure(lab: Lab, record: CallRecord, enqueuedAt: number): Promise<CallReport> {
  const person = lab.persons[0]!;
  const incoming = lab.phone.invitesSince(enqueuedAt)[0];
  const established = lab.phone.eventsOf('CALL_ESTABLISHED', enqueuedAt)[0];
  const rtp = lab.phone.eventsOf('CALL_RTPESTAB', enqueuedAt)[0];
  await lab.phone.nextEvent('CALL_CLOSED', { since: enqueuedAt, timeoutMs: 5_000 }).catch(() => undefined);
  const recordings = await lab.phone.receivedRecordings();
  const latest = recordings.at(-1);
  const phoneHeard = latest === undefined || established === undefined ? undefined : analyseTone(await readWav(latest));
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
    record,
  };
}

function printReport(report: CallReport, out: (line: string) => void): void {
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
  out('Setup (from enqueue)');
  out(`  INVITE at the phone ........ ${ms(report.enqueueToInviteMs)}`);
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
  out('');
  out(report.audioBothWays ? 'RESULT: audio crossed the bridge both ways' : 'RESULT: audio did NOT cross both ways');
}

function pct(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`;
}
