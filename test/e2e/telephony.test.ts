import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CallEvent, CallRecord } from '../../contracts/call-record.js';
import { stateChanges } from '../../contracts/call-record.js';
import type { DialRequestInput } from '../../contracts/dial-request.js';
import { analyseTone, hasTone, readWav, sliceSeconds } from '../../lab/audio-analysis.js';
import type { Lab } from '../../lab/lab.js';
import { SipPhone, type PhoneUser } from '../../lab/sip-phone.js';
import { SIPP_INFO_DIGITS } from '../../lab/sipp.js';
import { waitUntil } from '../../lab/wait.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * The SIP leg as telephone systems judge it, against real peers: baresip (its own commands hold, resume, transfer and
 * send digits), SIPp for scripted peers (SIP INFO digits, re-INVITEs), Kamailio as an authenticating trunk. Every
 * check is made where a user would make it: digits at the receiving end, audio in the recordings, the INVITE as the
 * phone received it, states and events in the call record.
 */
let lab: Lab;
useLab({ workers: 1, trunk: true }, (started) => {
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
    // Prepare
    const since = Date.now();
    const callId = await connect({ sip: { dtmfAfterAnswer: '12#' } });
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

  it('hears the digits the phone sends by RFC 2833, records them and forwards them into the room', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callId = await connect({ sip: { dtmfToRoom: true } });
    const since = Date.now();

    // Act
    await lab.phone.useAccount('probe');
    const sent = await lab.phone.command('sndcode', '4*7#');

    // Assess
    expect(sent.ok).toBe(true);
    const record = await lab.client.waitForCall(callId, (r) => events(r, 'dtmf-received').length >= 4, { timeoutMs: 10_000 });
    expect(events(record, 'dtmf-received')).toEqual(
      [...'4*7#'].map((digit) => ({ type: 'dtmf-received', digit, carriage: 'audio' })),
    );
    await waitUntil(async () => (await person.dataMessages()).filter((m) => m.at >= since).length >= 4, {
      timeoutMs: 5_000,
      what: 'the room person to receive four digits',
    });
    const messages = (await person.dataMessages()).filter((m) => m.at >= since).map((m) => JSON.parse(m.text) as unknown);
    expect(messages).toEqual([...'4*7#'].map((digit) => ({ type: 'roomline.dtmf', digit, carriage: 'audio' })));
    await hangUp(callId);
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

/** Waits until the phone's received packet count grows past `from`; resolves with when it did (epoch ms). */
async function phoneReceivesAgain(from: number): Promise<number> {
  await waitUntil(async () => (await lab.phone.packetsReceived()) > from + 5, { timeoutMs: 5_000, intervalMs: 50, what: 'the phone to receive audio again' });
  return Date.now();
}

describe('hold and resume', () => {
  it('follows the phone holding and resuming: ON_HOLD and back, silence in the room meanwhile, audio both ways within 1 s of the resume', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callId = await connect();
    await sleep(1_500);
    await lab.phone.useAccount('probe');

    // Act
    const heldAt = Date.now();
    expect((await lab.phone.command('hold')).ok).toBe(true);
    await lab.client.waitForCall(callId, (r) => r.state === 'ON_HOLD', { timeoutMs: 5_000 });
    await sleep(2_000);
    const packetsBefore = await lab.phone.packetsReceived();
    const resumedAt = Date.now();
    expect((await lab.phone.command('resume')).ok).toBe(true);
    const phoneHearsAt = await phoneReceivesAgain(packetsBefore);
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED', { timeoutMs: 5_000 });
    await sleep(2_000);
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
    const during = analyseTone(sliceSeconds(heard.pcm, heard.at(heldAt + 500), heard.at(resumedAt)));
    const after = analyseTone(sliceSeconds(heard.pcm, heard.at(resumedAt), heard.at(resumedAt + 2_000)));
    expect(during.soundS, `the room heard ${during.soundS} s of sound while the phone held the call`).toBeLessThan(0.1);
    expect(hasTone(after, 1000), JSON.stringify(after)).toBe(true);
    expect(after.onsetS! * 1000, "the phone's audio reached the room this long after the resume").toBeLessThan(1_000);
    expect(phoneHearsAt - resumedAt, "the room's audio reached the phone this long after the resume").toBeLessThan(1_000);
  });

  it('holds and resumes the SIP leg for the client: the phone and the room stop hearing each other, then hear each other again', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callId = await connect();
    await sleep(1_000);
    await lab.phone.useAccount('probe');

    // Act
    const hold = await lab.client.waitForControl(callId, await lab.client.hold(callId), { timeoutMs: 10_000 });
    const held = await lab.client.waitForCall(callId, (r) => r.state === 'ON_HOLD', { timeoutMs: 5_000 });
    await sleep(300);
    const packetsHeld = await lab.phone.packetsReceived();
    await sleep(1_500);
    const packetsStillHeld = await lab.phone.packetsReceived();
    const resume = await lab.client.waitForControl(callId, await lab.client.resume(callId), { timeoutMs: 10_000 });
    const resumed = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' && r.history.length > held.history.length, {
      timeoutMs: 5_000,
    });
    const phoneHearsAt = await phoneReceivesAgain(packetsStillHeld);
    await sleep(2_000);
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
    const during = analyseTone(sliceSeconds(heard.pcm, heard.at(heldAt + 300), heard.at(resumedAt)));
    const after = analyseTone(sliceSeconds(heard.pcm, heard.at(resumedAt), heard.at(resumedAt + 2_000)));
    expect(during.soundS, `the room heard ${during.soundS} s of sound while the call was held`).toBeLessThan(0.1);
    expect(hasTone(after, 1000), JSON.stringify(after)).toBe(true);
    expect(after.onsetS! * 1000).toBeLessThan(1_000);
    expect(phoneHearsAt - resumedAt).toBeLessThan(1_000);
  });

  it('follows a re-INVITE that holds the call, then one that resumes it with another codec, and hears the peer in that codec', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const peer = await lab.startSipp('reinvite');

    // Act
    const callId = await connect({ to: peer.uri });
    const updated = await lab.client.waitForCall(callId, (r) => events(r, 'media-updated').length > 0 || isFinal(r), { timeoutMs: 15_000 });
    const updatedAt = reached(updated, 'CONNECTED');
    await sleep(2_500);
    const record = await hangUp(callId);

    // Assess
    expect(await peer.finished()).toBe(0);
    expect(stateChanges(record.history).map((h) => h.state).slice(-4)).toEqual(['CONNECTED', 'ON_HOLD', 'CONNECTED', 'ENDED']);
    expect(events(record, 'media-updated')).toEqual([{ type: 'media-updated', audioCodec: 'PCMA' }]);
    expect(record.media?.sipAudioCodec).toBe('PCMA');
    // after the re-INVITE the peer plays G.711 A-law audio: the room hears it
    const heard = await person.recording(updatedAt);
    expect(analyseTone(heard.pcm).soundS).toBeGreaterThan(1);
  });
});

describe('blind transfer', () => {
  it('follows a REFER from the phone to a second account: new INVITE, old leg ended, the room hears the new party', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callId = await connect();
    await sleep(1_000);
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
    await sleep(2_500);
    const record = await hangUp(callId);
    await lab.phone.nextEvent('CALL_CLOSED', { since: followedAt, timeoutMs: 5_000 });
    await sleep(300);

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
    await lab.phone.keepRecordings();
  });

  it('declines a REFER when the request says so: no call to the target', async () => {
    // Prepare
    const callId = await connect({ sip: { transfer: 'decline' } });
    await sleep(500);
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
    const callId = await connect();
    await sleep(500);
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
