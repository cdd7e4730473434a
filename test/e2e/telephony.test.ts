import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { CallEvent, CallRecord } from '../../contracts/call-record.js';
import { stateChanges } from '../../contracts/call-record.js';
import type { DialRequestInput } from '../../contracts/dial-request.js';
import { analyseTone, hasTone, readWav, sliceSeconds } from '../../lab/audio-analysis.js';
import type { Lab } from '../../lab/lab.js';
import { SipPhone, type PhoneUser } from '../../lab/sip-phone.js';
import { TRUNK_DOMAIN, TRUNK_SIP_PORT, TRUNK_USER } from '../../lab/sip-trunk.js';
import { SIPP_EARLY_MEDIA_MS, SIPP_INFO_DIGITS, SIPP_TONE_HZ } from '../../lab/sipp.js';
import { waitUntil } from '../../lab/wait.js';
import { untilPersonHears, untilPersonRecorded, untilPhoneHears } from '../support/heard.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * The SIP leg as telephone systems judge it, against real peers: baresip (its own commands hold, resume, transfer and
 * send digits), SIPp for scripted peers (SIP INFO digits, re-INVITEs), Kamailio as an authenticating trunk. Every
 * check is made where a user would make it: digits at the receiving end, audio in the recordings, the INVITE as the
 * phone received it, states and events in the call record.
 */
let lab: Lab;
// two warm workers: one takes the next call while the last call's replacement warms up
useLab({ workers: 2, trunk: true }, (started) => {
  lab = started;
});

/** The call events of one type in a record's history, in order. */
function events<T extends CallEvent['type']>(record: CallRecord, type: T): Extract<CallEvent, { type: T }>[] {
  return record.history.flatMap((h) => (h.event?.type === type ? [h.event as Extract<CallEvent, { type: T }>] : []));
}

/** Dials, and resolves with the callId once the call is CONNECTED (or fails the test with the record). */
async function connect(overrides: Partial<DialRequestInput> = {}): Promise<string> {
  const callId = await lab.client.enqueueDial(lab.dialRequest(overrides));
  const record = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
  expect(record.state, JSON.stringify(record.failure ?? record.history.at(-1))).toBe('CONNECTED');
  return callId;
}

async function hangUp(callId: string): Promise<CallRecord> {
  await lab.client.requestHangup(callId);
  return lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });
}

const phoneUri = (user: PhoneUser) => SipPhone.uri(user);

describe('DTMF', () => {
  it('sends digits after answer by RFC 2833 and on request by SIP INFO, and the phone receives each', async () => {
    // Prepare: a G.711 phone (baresip 1.0 sends and reads telephone-events at 8 kHz only; see docs/telephony.md)
    const since = Date.now();
    const callId = await connect({ to: phoneUri('pcmu'), sip: { dtmfAfterAnswer: '12#' } });
    await waitUntil(() => lab.phone.digitsSince(since) === '12#', { timeoutMs: 10_000, what: 'the phone to receive 12#' });

    // Act
    const id = await lab.client.sendDtmf(callId, '*90', { carriage: 'info' });
    const control = await lab.client.waitForControl(callId, id, { timeoutMs: 15_000 });

    // Assess
    expect(control.status).toBe('done');
    await waitUntil(() => lab.phone.digitsSince(since) === '12#*90', { timeoutMs: 10_000, what: 'the phone to receive *90' });
    const record = await hangUp(callId);
    expect(events(record, 'dtmf-sent')).toEqual([
      { type: 'dtmf-sent', count: 3, carriage: 'rfc2833', source: 'request' },
      { type: 'dtmf-sent', count: 3, carriage: 'info', source: 'control' },
    ]);
    // digits sent may be a PIN: neither the stored request nor the acknowledged control keeps them
    expect(record.request?.sip.dtmfAfterAnswer).toBeUndefined();
    expect(record.controls?.[0]).toMatchObject({ id, status: 'done', control: { type: 'dtmf', digits: '' } });
  });

  it('reads the digits the phone sends by RFC 2833 off the RTP it forwards, records them and forwards them into the room', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callId = await connect({ sip: { dtmfToRoom: true } });
    const since = Date.now();
    // a data message reaches those subscribed to the bot's feed by then: the person hears the phone once she is
    // (read off the events, a digit pressed at the answer reaches the room before her subscription does)
    await untilPersonHears(person, { since, hz: 1000, seconds: 0.5 });

    // Act
    await lab.phone.useAccount('probe');
    const sent = await lab.phone.command('sndcode', '4*7#');

    // Assess
    expect(sent.ok).toBe(true);
    const record = await lab.client.waitForCall(callId, (r) => events(r, 'dtmf-received').length >= 4, { timeoutMs: 10_000 });
    // forwarded both ways, the call decodes no audio: the digits come off the telephone-events, not the tones
    expect(events(record, 'dtmf-received')).toEqual(
      [...'4*7#'].map((digit) => ({ type: 'dtmf-received', digit, carriage: 'rfc2833' })),
    );
    await waitUntil(async () => (await person.dataMessages()).filter((m) => m.at >= since).length >= 4, {
      timeoutMs: 5_000,
      what: 'the room person to receive four digits',
    });
    const messages = (await person.dataMessages()).filter((m) => m.at >= since).map((m) => JSON.parse(m.text) as unknown);
    expect(messages).toEqual([...'4*7#'].map((digit) => ({ type: 'roomline.dtmf', digit, carriage: 'rfc2833' })));
    const ended = await hangUp(callId);
    expect(ended.quality?.audioPath?.sipToRoom.mode).toBe('forward');
  });

  it('records the digits a peer sends by SIP INFO', async () => {
    // Prepare
    const peer = await lab.startSipp('info-dtmf');

    // Act
    const callId = await connect({ to: peer.uri });
    const record = await lab.client.waitForCall(callId, (r) => events(r, 'dtmf-received').length >= 3 || isFinal(r), {
      timeoutMs: 15_000,
    });

    // Assess
    expect(events(record, 'dtmf-received')).toEqual(
      [...SIPP_INFO_DIGITS].map((digit) => ({ type: 'dtmf-received', digit, carriage: 'info' })),
    );
    await hangUp(callId);
    expect(await peer.finished()).toBe(0);
  });
});

/** When the call's history reached `state` (the last time), epoch ms. */
const reached = (record: CallRecord, state: string) => Date.parse(record.history.findLast((h) => h.state === state)!.at);

/**
 * How soon after a resume audio must flow both ways again: a bound that tells "resumed" from "stuck until some timeout",
 * not a speed figure (on a quiet machine it took 120-140 ms; a machine at load 28 took 1.9 s).
 */
const RESUMED_WITHIN_MS = 3_000;

/**
 * Waits until the phone's received packet count stops growing (the same over 200 ms: what was on its way when the
 * bridge held the call has arrived); resolves with that count.
 */
async function phoneStopsReceiving(): Promise<number> {
  let last = -1;
  await waitUntil(
    async () => {
      const now = await lab.phone.packetsReceived();
      const still = now === last;
      last = now;
      return still;
    },
    { timeoutMs: 5_000, intervalMs: 200, what: 'the phone to stop receiving audio' },
  );
  return last;
}

/** Waits until the phone's received packet count grows past `from`; resolves with when it did (epoch ms). */
async function phoneReceivesAgain(from: number): Promise<number> {
  await waitUntil(async () => (await lab.phone.packetsReceived()) > from + 5, { timeoutMs: RESUMED_WITHIN_MS + 2_000, intervalMs: 50, what: 'the phone to receive audio again' });
  return Date.now();
}

describe('hold and resume', () => {
  it('follows the phone holding and resuming: ON_HOLD and back, silence in the room meanwhile, audio both ways soon after the resume', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const since = Date.now();
    const callId = await connect();
    await untilPersonHears(person, { since, hz: 1000, seconds: 1 });
    await lab.phone.useAccount('probe');

    // Act
    expect((await lab.phone.command('hold')).ok).toBe(true);
    // from the ON_HOLD entry on (written once the bridge followed the re-INVITE) the room must hear silence
    const heldAt = reached(await lab.client.waitForCall(callId, (r) => r.state === 'ON_HOLD', { timeoutMs: 5_000 }), 'ON_HOLD');
    // held for 2 s as the room's recording counts them
    await untilPersonRecorded(person, heldAt, 2);
    const packetsBefore = await lab.phone.packetsReceived();
    const resumedAt = Date.now();
    expect((await lab.phone.command('resume')).ok).toBe(true);
    const phoneHearsAt = await phoneReceivesAgain(packetsBefore);
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED', { timeoutMs: 5_000 });
    await untilPersonRecorded(person, resumedAt, (RESUMED_WITHIN_MS + 1_000) / 1000);
    const record = await hangUp(callId);

    // Assess
    expect(stateChanges(record.history).map((h) => h.state)).toEqual([
      'QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ON_HOLD', 'CONNECTED', 'ENDED',
    ]);
    expect([...events(record, 'hold'), ...events(record, 'resume')]).toEqual([
      { type: 'hold', by: 'remote' },
      { type: 'resume', by: 'remote' },
    ]);
    const heard = await person.recording(heldAt - 1_000);
    const during = analyseTone(sliceSeconds(heard.pcm, heard.at(heldAt + 300), heard.at(resumedAt)));
    const after = analyseTone(sliceSeconds(heard.pcm, heard.at(resumedAt), heard.at(resumedAt + RESUMED_WITHIN_MS + 1_000)));
    expect(during.soundS, `the room heard ${during.soundS} s of sound while the phone held the call`).toBeLessThan(0.1);
    expect(hasTone(after, 1000), JSON.stringify(after)).toBe(true);
    expect(after.onsetS! * 1000, "the phone's audio reached the room this long after the resume").toBeLessThan(RESUMED_WITHIN_MS);
    expect(phoneHearsAt - resumedAt, "the room's audio reached the phone this long after the resume").toBeLessThan(RESUMED_WITHIN_MS);
  });

  it('holds and resumes the SIP leg for the client: the phone and the room stop hearing each other, then hear each other again', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const since = Date.now();
    const callId = await connect();
    await untilPersonHears(person, { since, hz: 1000, seconds: 1 });
    await lab.phone.useAccount('probe');

    // Act
    const hold = await lab.client.waitForControl(callId, await lab.client.hold(callId), { timeoutMs: 10_000 });
    const held = await lab.client.waitForCall(callId, (r) => r.state === 'ON_HOLD', { timeoutMs: 5_000 });
    const packetsHeld = await phoneStopsReceiving();
    // held for 1.5 s as the room's recording counts them
    await untilPersonRecorded(person, Date.now(), 1.5);
    const packetsStillHeld = await lab.phone.packetsReceived();
    const resumeAskedAt = Date.now();
    const resume = await lab.client.waitForControl(callId, await lab.client.resume(callId), { timeoutMs: 10_000 });
    const resumed = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' && r.history.length > held.history.length, {
      timeoutMs: 5_000,
    });
    const phoneHearsAt = await phoneReceivesAgain(packetsStillHeld);
    await untilPersonRecorded(person, reached(resumed, 'CONNECTED'), (RESUMED_WITHIN_MS + 1_000) / 1000);
    const record = await hangUp(callId);

    // Assess
    expect([hold.status, resume.status]).toEqual(['done', 'done']);
    expect([...events(record, 'hold'), ...events(record, 'resume')]).toEqual([
      { type: 'hold', by: 'local' },
      { type: 'resume', by: 'local' },
    ]);
    expect(packetsStillHeld - packetsHeld, 'packets the phone received while held').toBeLessThanOrEqual(2);
    const heldAt = reached(held, 'ON_HOLD');
    const resumedAt = reached(resumed, 'CONNECTED');
    const heard = await person.recording(heldAt - 1_000);
    // held from the ON_HOLD entry (written once the hold was in place) until the resume was asked for
    const during = analyseTone(sliceSeconds(heard.pcm, heard.at(heldAt + 300), heard.at(resumeAskedAt)));
    const after = analyseTone(sliceSeconds(heard.pcm, heard.at(resumedAt), heard.at(resumedAt + RESUMED_WITHIN_MS + 1_000)));
    expect(during.soundS, `the room heard ${during.soundS} s of sound while the call was held`).toBeLessThan(0.1);
    expect(hasTone(after, 1000), JSON.stringify(after)).toBe(true);
    expect(after.onsetS! * 1000).toBeLessThan(RESUMED_WITHIN_MS);
    expect(phoneHearsAt - resumedAt).toBeLessThan(RESUMED_WITHIN_MS);
  });

  it('follows a re-INVITE that holds the call, then one that resumes it with another codec, and hears the peer in that codec', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const peer = await lab.startSipp('reinvite');

    // Act
    const callId = await connect({ to: peer.uri });
    const updated = await lab.client.waitForCall(callId, (r) => events(r, 'media-updated').length > 0 || isFinal(r), { timeoutMs: 15_000 });
    const updatedAt = reached(updated, 'CONNECTED');
    await untilPersonHears(person, { since: updatedAt, hz: SIPP_TONE_HZ, seconds: 1.6 });
    const record = await hangUp(callId);

    // Assess
    expect(await peer.finished()).toBe(0);
    expect(stateChanges(record.history).map((h) => h.state).slice(-4)).toEqual(['CONNECTED', 'ON_HOLD', 'CONNECTED', 'ENDED']);
    expect(events(record, 'media-updated')).toEqual([{ type: 'media-updated', audioCodec: 'PCMA' }]);
    expect(record.media?.sipAudioCodec).toBe('PCMA');
    // after the re-INVITE the peer plays its tone in A-law: the room hears it
    const heard = analyseTone((await person.recording(updatedAt)).pcm);
    expect(hasTone(heard, SIPP_TONE_HZ), JSON.stringify(heard)).toBe(true);
    expect(heard.soundS).toBeGreaterThan(1.5);
  });
});

describe('blind transfer', () => {
  it('follows a REFER from the phone to a second account: new INVITE, old leg ended, the room hears the new party', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callStarted = Date.now();
    const callId = await connect();
    await untilPersonHears(person, { since: callStarted, hz: 1000, seconds: 1 });
    await lab.phone.useAccount('probe');
    const since = Date.now();

    // Act
    expect((await lab.phone.command('transfer', phoneUri('desk'))).ok).toBe(true);
    const followed = await lab.client.waitForCall(
      callId,
      (r) => events(r, 'transfer').some((e) => e.phase !== 'requested') || isFinal(r),
      { timeoutMs: 15_000 },
    );
    const followedAt = Date.parse(followed.history.at(-1)!.at);
    // the new party heard both ways: the desk hears the room, the room hears the desk for 2 s
    await untilPhoneHears(lab.phone, { since: followedAt - 2_000, hz: 440, seconds: 1 });
    await untilPersonHears(person, { since: followedAt, hz: 1000, seconds: 1 });
    await untilPersonRecorded(person, followedAt, 2);
    const record = await hangUp(callId);
    await lab.phone.nextEvent('CALL_CLOSED', { since: followedAt, timeoutMs: 5_000 });
    await waitUntil(() => lab.phone.eventsOf('CALL_CLOSED', since).some((e) => e.accountaor?.includes('probe') === true), {
      timeoutMs: 5_000,
      what: "the phone to report the transferred call closed",
    });

    // Assess
    expect(events(record, 'transfer')).toEqual([
      { type: 'transfer', by: 'remote', phase: 'requested', target: phoneUri('desk') },
      { type: 'transfer', by: 'remote', phase: 'followed', target: phoneUri('desk') },
    ]);
    // the room never noticed: one connected call from start to end
    expect(stateChanges(record.history).map((h) => h.state).slice(-2)).toEqual(['CONNECTED', 'ENDED']);
    expect(record.endedBy).toBe('caller');
    const deskCall = lab.phone.eventsOf('CALL_ESTABLISHED', since).find((e) => e.accountaor?.includes('desk'));
    expect(deskCall?.peeruri, 'the desk was called by the bridge, as the same caller').toContain('sip:meeting@127.0.0.1');
    const probeClosed = lab.phone.eventsOf('CALL_CLOSED', since).find((e) => e.accountaor?.includes('probe'));
    expect(probeClosed?.param).toMatch(/transfer/i);
    const deskHeard = (await lab.phone.recordingsSince(followedAt - 2_000, 'dec')).at(-1);
    expect(deskHeard, 'the desk recorded nothing').toBeDefined();
    expect(hasTone(analyseTone(await readWav(deskHeard!.path)), 440)).toBe(true);
    const heard = await person.recording(followedAt);
    expect(hasTone(analyseTone(sliceSeconds(heard.pcm, 0, heard.at(followedAt + 2_000))), 1000)).toBe(true);
  });

  it('declines a REFER when the request says so: no call to the target', async () => {
    // Prepare
    const dialledAt = Date.now();
    const callId = await connect({ sip: { transfer: 'decline' } });
    await lab.phone.nextEvent('CALL_ESTABLISHED', { since: dialledAt, timeoutMs: 5_000 });
    await lab.phone.useAccount('probe');
    const since = Date.now();

    // Act
    expect((await lab.phone.command('transfer', phoneUri('desk'))).ok).toBe(true);
    const declined = await lab.client.waitForCall(callId, (r) => events(r, 'transfer').length > 0 || isFinal(r), { timeoutMs: 10_000 });
    // baresip 1.0 hangs up a call whose transfer failed
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });

    // Assess
    expect(events(declined, 'transfer')).toEqual([{ type: 'transfer', by: 'remote', phase: 'declined', target: phoneUri('desk') }]);
    expect(record).toMatchObject({ state: 'ENDED', endedBy: 'remote' });
    expect(lab.phone.eventsOf('CALL_ESTABLISHED', since).filter((e) => e.accountaor?.includes('desk'))).toHaveLength(0);
  });

  it('blind-transfers the phone for the client: the phone calls the target, the bridge leaves with ENDED by caller', async () => {
    // Prepare
    const dialledAt = Date.now();
    const callId = await connect();
    await lab.phone.nextEvent('CALL_ESTABLISHED', { since: dialledAt, timeoutMs: 5_000 });
    const since = Date.now();

    // Act
    const control = await lab.client.waitForControl(callId, await lab.client.transfer(callId, phoneUri('desk')), { timeoutMs: 10_000 });
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });

    // Assess
    expect(control.status).toBe('done');
    expect(events(record, 'transfer').map((e) => e.phase)).toEqual(['requested', 'followed']);
    expect(record).toMatchObject({ state: 'ENDED', endedBy: 'caller' });
    expect(record.history.at(-1)?.detail).toBe(`transferred to ${phoneUri('desk')}`);
    // the phone (probe) placed the new call to the desk itself
    await waitUntil(() => lab.phone.eventsOf('CALL_ESTABLISHED', since).some((e) => e.accountaor?.includes('desk')), {
      timeoutMs: 5_000,
      what: 'the desk to answer the call the phone placed',
    });
    await lab.phone.useAccount('desk');
    await lab.phone.command('hangup');
  });
});

describe('codecs and SRTP', () => {
  it.each([
    ['pcmu', 'PCMU'],
    ['pcma', 'PCMA'],
    ['g722', 'G722'],
  ] as const)('bridges audio both ways with a %s-only phone, re-encoding in the page', async (user, codec) => {
    // Prepare
    const person = lab.persons[0]!;
    const since = Date.now();

    // Act
    const callId = await connect({ to: phoneUri(user) });
    const phoneHeard = await untilPhoneHears(lab.phone, { since, hz: 440, seconds: 1 });
    const roomHeard = await untilPersonHears(person, { since, hz: 1000, seconds: 1 });
    const record = await hangUp(callId);
    await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 5_000 });

    // Assess
    expect(record.media?.sipAudioCodec).toBe(codec);
    expect(record.quality?.sip.audioIn?.codec?.toUpperCase()).toContain(codec);
    expect(hasTone(phoneHeard, 440), 'the phone heard the room').toBe(true);
    expect(hasTone(roomHeard, 1000), 'the room heard the phone').toBe(true);
  });

  it('offers only the codecs a request prefers, in its order (G.711 first for the PSTN)', async () => {
    // Prepare
    const since = Date.now();

    // Act
    const callId = await connect({ sip: { audioCodecs: ['PCMA', 'PCMU'] } });
    const record = await hangUp(callId);

    // Assess
    const invite = (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    const audio = /^m=audio \d+ RTP\/AVP ([\d ]+)$/m.exec(invite?.sdp ?? '')?.[1]?.split(' ') ?? [];
    const names = audio.map((pt) => new RegExp(`^a=rtpmap:${pt} ([^/]+)`, 'm').exec(invite?.sdp ?? '')?.[1]);
    expect(names.filter((n) => n !== 'telephone-event' && n !== 'CN')).toEqual(['PCMA', 'PCMU']);
    expect(record.media?.sipAudioCodec).toBe('PCMA');
    expect(Date.parse(record.timings!.inviteAt!)).toBeGreaterThanOrEqual(since);
  });

  it('calls an SRTP-mandatory phone with SDES-SRTP and bridges audio; without SRTP the phone refuses the call', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const since = Date.now();

    // Act
    const callId = await connect({ to: phoneUri('srtp'), sip: { srtp: 'mandatory' } });
    await untilPersonHears(person, { since, hz: 1000, seconds: 1 });
    const record = await hangUp(callId);
    await lab.pool!.waitReady(1);
    const refused = await lab.client.waitForCall(await lab.client.enqueueDial(lab.dialRequest({ to: phoneUri('srtp') })), isFinal, {
      timeoutMs: 20_000,
    });

    // Assess
    const invite = (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    expect(invite?.sdp).toMatch(/^m=audio \d+ RTP\/SAVP /m);
    expect(invite?.sdp).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/m);
    expect(record.state).toBe('ENDED');
    expect(hasTone((await person.hearing(since)).tone, 1000), 'the room heard the SRTP phone').toBe(true);
    expect(refused).toMatchObject({ state: 'FAILED', failure: { code: 'SIP_REJECTED', sipCode: 488 } });
  });
});

describe('early media', () => {
  it('plays a 183 with early media into the room before the answer, then connects', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const peer = await lab.startSipp('early-media');

    // Act
    const callId = await lab.client.enqueueDial(lab.dialRequest({ to: peer.uri }));
    const ringing = await lab.client.waitForCall(callId, (r) => r.sip?.lastCode === 183 || isFinal(r), { timeoutMs: 20_000 });
    const connected = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 10_000 });

    // Assess
    expect(ringing.state).toBe('RINGING');
    expect(connected.state).toBe('CONNECTED');
    const answeredAt = reached(connected, 'CONNECTED');
    expect(answeredAt - reached(ringing, 'RINGING')).toBeGreaterThanOrEqual(SIPP_EARLY_MEDIA_MS - 500);
    const heard = await person.recording(Date.parse(connected.timings!.inviteAt!));
    const early = analyseTone(sliceSeconds(heard.pcm, 0, heard.at(answeredAt)));
    expect(hasTone(early, SIPP_TONE_HZ), `the room heard before the answer: ${JSON.stringify(early)}`).toBe(true);
    expect(early.soundS).toBeGreaterThan(1.5);
    await hangUp(callId);
    expect(await peer.finished()).toBe(0);
  });

  it('counts the ring timeout from the INVITE, early media or not, and cancels', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const peer = await lab.startSipp('early-media-unanswered');

    // Act
    const callId = await lab.client.enqueueDial(lab.dialRequest({ to: peer.uri, limits: { ringTimeoutS: 4 } }));
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });

    // Assess
    expect(record).toMatchObject({ state: 'FAILED', failure: { code: 'SIP_NO_ANSWER' } });
    const ringFor = Date.parse(record.timings!.endedAt!) - Date.parse(record.timings!.inviteAt!);
    expect(ringFor).toBeGreaterThanOrEqual(3_800);
    expect(ringFor).toBeLessThan(7_000);
    const heard = analyseTone((await person.recording(Date.parse(record.timings!.inviteAt!))).pcm);
    expect(hasTone(heard, SIPP_TONE_HZ), `the room heard the early media: ${JSON.stringify(heard)}`).toBe(true);
    expect(heard.soundS).toBeGreaterThan(1.5);
    expect(await peer.finished(), 'SIPp saw the CANCEL it waited for').toBe(0);
  });
});

describe('what the INVITE carries', () => {
  it("shows the phone the caller's display name and user and the request's X- headers", async () => {
    // Act
    const callId = await connect({
      from: { uri: 'sip:weekly-sync@127.0.0.1', displayName: 'Weekly sync' },
      headers: { 'X-Meeting-Id': '42', 'X-Tenant': 'acme' },
    });
    const record = await hangUp(callId);

    // Assess
    const invite = (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    expect(invite?.headers['From']).toMatch(/^"Weekly sync" <sip:weekly-sync@127\.0\.0\.1>;tag=/);
    expect(invite?.headers['X-Meeting-Id']).toBe('42');
    expect(invite?.headers['X-Tenant']).toBe('acme');
  });
});

describe('trunks through Kamailio as an authenticating proxy and registrar', () => {
  const trunkInvite = async (record: CallRecord) => (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);

  it('answers the 407 of its outbound proxy with the trunk password, and calls as the trunk identity', async () => {
    // Act
    const since = Date.now();
    const callId = await connect({
      trunk: 'lab-proxy',
      from: { uri: 'sip:ignored@127.0.0.1', displayName: 'Weekly sync' },
      headers: { 'X-Meeting-Id': '42' },
    });
    // more than 20 packets of the phone's audio through the bridge
    await untilPersonHears(lab.persons[0]!, { since, hz: 1000, seconds: 0.6 });
    const record = await hangUp(callId);

    // Assess
    const invite = await trunkInvite(record);
    expect(invite?.headers['From']).toMatch(/^"Weekly sync" <sip:roomline@trunk\.lab\.invalid>;tag=/);
    expect(invite?.headers['X-Meeting-Id']).toBe('42');
    // the trunk proxied it (its Via on top, its Record-Route) and kept the credentials to itself
    expect(invite?.headers['Via']).toContain(`127.0.0.1:${TRUNK_SIP_PORT}`);
    expect(invite?.headers['Record-Route']).toContain(`127.0.0.1:${TRUNK_SIP_PORT}`);
    expect(invite?.headers['Proxy-Authorization']).toBeUndefined();
    expect(record.quality?.sip.audioIn?.packets).toBeGreaterThan(20);
    const log = await readFile(lab.trunk!.process.logFile!, 'utf8');
    expect(log).toContain(`INVITE ${phoneUri('probe')}: challenged (407)`);
    expect(log).toMatch(/INVITE sip:probe@127\.0\.0\.1:5090 from sip:roomline@trunk\.lab\.invalid over udp: authenticated as roomline/);
  });

  it('registers with a 401 challenge, holds a binding at the registrar, and calls a user of the trunk past its 401', async () => {
    // Act
    const callId = await connect({ trunk: 'lab-register', to: `sip:probe@${TRUNK_DOMAIN}` });
    const contacts = await lab.trunk!.registeredContacts(TRUNK_USER);
    const record = await hangUp(callId);

    // Assess
    expect(contacts.length, 'contacts of the bridge at the registrar').toBeGreaterThan(0);
    const log = await readFile(lab.trunk!.process.logFile!, 'utf8');
    expect(log).toContain(`REGISTER sip:${TRUNK_USER}@${TRUNK_DOMAIN}: challenged (401)`);
    expect(log).toContain(`REGISTER sip:${TRUNK_USER}@${TRUNK_DOMAIN}: authenticated as ${TRUNK_USER}, saved`);
    expect(log).toContain(`INVITE sip:probe@${TRUNK_DOMAIN}: challenged (401)`);
    expect(record.state).toBe('ENDED');
  });

  it('reaches the trunk over TCP', async () => {
    // Act
    const callId = await connect({ trunk: 'lab-tcp' });
    const record = await hangUp(callId);

    // Assess: the trunk relayed it over UDP to the phone; the bridge's own hop below it was TCP
    const log = await readFile(lab.trunk!.process.logFile!, 'utf8');
    expect(log).toMatch(/INVITE sip:probe@127\.0\.0\.1:5090 from sip:roomline@trunk\.lab\.invalid over tcp: authenticated as roomline/);
    const invite = await trunkInvite(record);
    expect(invite).toBeDefined();
  });

  it('reaches the trunk over TLS', async () => {
    // Act
    const callId = await connect({ trunk: 'lab-tls' });
    const record = await hangUp(callId);

    // Assess: Janus's SIP stack (sofia-sip, with the lab's certificate) spoke TLS to the trunk's TLS listener
    const log = await readFile(lab.trunk!.process.logFile!, 'utf8');
    expect(log).toMatch(/INVITE sip:probe@127\.0\.0\.1:5090 from sip:roomline@trunk\.lab\.invalid over tls: authenticated as roomline/);
    expect(record.state).toBe('ENDED');
  });

  it("takes the trunk's settings: G.711 first and digits by SIP INFO through the proxy", async () => {
    // Prepare
    const since = Date.now();

    // Act
    const callId = await connect({ trunk: 'lab-pstn', sip: { dtmfAfterAnswer: '55#' } });
    await waitUntil(() => lab.phone.digitsSince(since) === '55#', { timeoutMs: 10_000, what: 'the phone to receive 55#' });
    const record = await hangUp(callId);

    // Assess
    expect(record.media?.sipAudioCodec).toBe('PCMU');
    expect(events(record, 'dtmf-sent')).toEqual([{ type: 'dtmf-sent', count: 3, carriage: 'info', source: 'request' }]);
  });

  it.each([
    ['the INVITE', 'lab-wrong', 407],
    ['the REGISTER', 'lab-wrong-register', 401],
  ] as const)('fails as SIP_AUTH_FAILED, not a hang, when the trunk rejects the password for %s', async (what, trunk, challenge) => {
    // Act (the bound covers the wait for the warm worker that replaces the previous call's, slow on a busy machine)
    const callId = await lab.client.enqueueDial(lab.dialRequest({ trunk, limits: { ringTimeoutS: 30 } }));
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 60_000 });

    // Assess: the trunk challenged again after the credentials; Janus's SIP stack gives up with its own 904, and the
    // call ends on that refusal, not on its 30 s ring timeout (measured from the claim, so a worker's warm-up is not in it)
    // (the trunk's lines for this method go with a failure: what the trunk saw of the exchange)
    const log = await readFile(lab.trunk!.process.logFile!, 'utf8');
    const method = what.replace('the ', '');
    const seen = `${JSON.stringify(record.failure)}\ntrunk: ${log.split('\n').filter((line) => line.includes(`${method} sip:`)).slice(-6).join('\n')}`;
    expect(record, seen).toMatchObject({ state: 'FAILED', failure: { code: 'SIP_AUTH_FAILED', sipCode: 904, fault: 'remote' } });
    expect(Date.parse(record.timings!.endedAt!) - Date.parse(record.timings!.claimedAt!), seen).toBeLessThan(15_000);
    expect(JSON.stringify(record)).not.toContain(lab.trunk!.password);
    expect(log.split(`challenged (${challenge})`).length).toBeGreaterThan(2);
  });
});
