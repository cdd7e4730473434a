import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { analyseTone, hasTone, readWav } from '../../lab/audio-analysis.js';
import { PERSON_TONE_HZ, PHONE_TONE_HZ } from '../../lab/demo-call.js';
import type { Lab } from '../../lab/lab.js';
import { PHONE_CALLER } from '../../lab/sip-phone.js';
import { waitUntil } from '../../lab/wait.js';
import { SipRegistrar } from '../../lab/sip-registrar.js';
import { untilPersonHears } from '../support/heard.js';
import { isFinal, states, useLab } from '../support/lab.js';

/**
 * Dial-in through the real lab: the lab phone (baresip) calls the Kamailio registrar, which forks the INVITE to the
 * warm workers registered there through the Janus SIP plugin; one claims it in the calls table (dynalite), routes it
 * by the routes table, joins the Janus room and answers. Tones are checked at both ends.
 */
let lab: Lab;
const ROUTED_NUMBER = '+15551230001';
const UNROUTED_NUMBER = '+15559999999';
const PIN_LINE = '+15551230002';
const SHORT_NUMBER = '+15551230003';
const NO_ROOM_NUMBER = '+15551230004';
const PIN = '2468';

useLab({ workers: 1, dialIn: true }, async (started) => {
  lab = started;
  await lab.client.addRoute({
    match: { kind: 'number', number: ROUTED_NUMBER },
    room: { ...lab.endpoints.room },
    callerName: 'name',
    limits: { maxDurationS: 60, emptyRoomTimeoutS: 30 },
  });
  await lab.client.addRoute({ match: { kind: 'number', number: PIN_LINE }, collectPin: true });
  await lab.client.addRoute({
    match: { kind: 'pin', number: PIN_LINE, pin: PIN },
    room: { ...lab.endpoints.room },
    limits: { maxDurationS: 60, emptyRoomTimeoutS: 30 },
  });
  await lab.client.addRoute({
    match: { kind: 'number', number: SHORT_NUMBER },
    room: { ...lab.endpoints.room },
    limits: { maxDurationS: 3, emptyRoomTimeoutS: 30 },
  });
  // a Janus room that does not exist: the join fails
  await lab.client.addRoute({ match: { kind: 'number', number: NO_ROOM_NUMBER }, room: { ...lab.endpoints.room, roomId: 999_001 } });
  // a worker is ready once it is registered: then the registrar has its contact
  await lab.pool!.waitReady(1, 120_000);
  await lab.registrar!.waitContacts(1);
});

describe('dial-in', () => {
  it('routes a call by its dialled number into the room, with the caller named and heard both ways', async () => {
    const since = Date.now();

    await lab.phone.call(SipRegistrar.uri(ROUTED_NUMBER));

    const connected = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(connected.state).toBe('CONNECTED');
    await lab.phone.nextEvent('CALL_ESTABLISHED', { since, timeoutMs: 10_000 });
    const participants = await lab.persons[0]!.participants();
    expect(participants.map((p) => p.display)).toContain(PHONE_CALLER.displayName);
    // more than two seconds of the phone's audio through the bridge: more than 100 packets of 20 ms
    await untilPersonHears(lab.persons[0]!, { since, hz: PHONE_TONE_HZ, seconds: 2.5 });
    await lab.client.requestHangup(connected.callId);
    const record = await lab.client.waitForCall(connected.callId, isFinal, { timeoutMs: 15_000 });

    expect(record.state).toBe('ENDED');
    expect(record.direction).toBe('inbound');
    expect(record.caller).toEqual({
      uri: expect.stringContaining(PHONE_CALLER.number),
      number: PHONE_CALLER.number,
      displayName: PHONE_CALLER.displayName,
    });
    expect(record.routeId).toBe(`number:${ROUTED_NUMBER}`);
    expect(states(record)).toEqual(['CLAIMED', 'JOINING', 'DIALING', 'CONNECTED', 'ENDED']);
    expect(record.quality?.sip.audioIn?.packets).toBeGreaterThan(100);
    const hearing = await lab.persons[0]!.hearing(since);
    expect(hasTone(hearing.tone, PHONE_TONE_HZ), `person heard ${JSON.stringify(hearing.tone)}`).toBe(true);
  });

  it('answers a PIN line, takes the PIN by DTMF after the spoken prompt, and joins the room the PIN opens', async () => {
    const since = Date.now();
    await lab.phone.call(SipRegistrar.uri(PIN_LINE));
    const answered = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(answered.state).toBe('CONNECTED');
    expect(lab.phone.eventsOf('CALL_ESTABLISHED', since)).toHaveLength(1);

    const sent = await lab.phone.command('sndcode', `${PIN}#`);

    expect(sent.ok).toBe(true);
    await waitUntil(async () => (await lab.persons[0]!.participants()).some((p) => p.display === 'Phone ••••0100'), {
      timeoutMs: 20_000,
      what: 'the caller in the room',
    });
    const joinedAt = Date.now();
    await untilPersonHears(lab.persons[0]!, { since: joinedAt, hz: PHONE_TONE_HZ, seconds: 1 });
    await lab.phone.command('hangup');
    const record = await lab.client.waitForCall(answered.callId, isFinal, { timeoutMs: 10_000 });
    expect(record.state).toBe('ENDED');
    expect(record.routeId).toBe(`pin:${PIN_LINE}:••••`);
    expect(JSON.stringify(record)).not.toContain(PIN);
    expect(record.history.some((h) => h.event?.type === 'dtmf-received')).toBe(false);
    const hearing = await lab.persons[0]!.hearing(joinedAt);
    expect(hasTone(hearing.tone, PHONE_TONE_HZ), `person heard ${JSON.stringify(hearing.tone)}`).toBe(true);
  });

  it('asks again after a wrong PIN, then hangs up and records FAILED PIN_INVALID', async () => {
    const since = Date.now();
    await lab.phone.call(SipRegistrar.uri(PIN_LINE));
    const answered = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(answered.state).toBe('CONNECTED');

    // three wrong PINs typed ahead: digits typed during a prompt count, each '#' ends one attempt
    expect((await lab.phone.command('sndcode', '1111#2222#3333#')).ok).toBe(true);

    const record = await lab.client.waitForCall(answered.callId, isFinal, { timeoutMs: 40_000 });
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'PIN_INVALID', fault: 'caller' });
    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    expect(closed.param).toMatch(/reset by peer/i);
    expect(record.history.some((h) => h.event?.type === 'dtmf-received')).toBe(false);
    // no room was joined: what the phone heard is the prompts (enter, wrong twice, goodbye), seconds of speech
    const [heard] = await lab.phone.recordingsSince(since, 'dec');
    expect(heard, 'the phone recorded nothing').toBeDefined();
    const prompts = analyseTone(await readWav(heard!.path));
    expect(prompts.soundS, JSON.stringify(prompts)).toBeGreaterThan(5);
  });

  it('records ENDED by remote when the caller hangs up, and the phone\'s BYE ends the bridge', async () => {
    const since = Date.now();
    await lab.phone.call(SipRegistrar.uri(ROUTED_NUMBER));
    const connected = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(connected.state).toBe('CONNECTED');

    const response = await lab.phone.command('hangup');

    expect(response.ok).toBe(true);
    const record = await lab.client.waitForCall(connected.callId, isFinal, { timeoutMs: 10_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('remote');
  });

  it('sends the phone a BYE when the room side asks for the hangup, and records ENDED by caller', async () => {
    const since = Date.now();
    await lab.phone.call(SipRegistrar.uri(ROUTED_NUMBER));
    const connected = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(connected.state).toBe('CONNECTED');
    const askedAt = Date.now();

    await lab.client.requestHangup(connected.callId);

    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since: askedAt, timeoutMs: 10_000 });
    expect(closed.param).toMatch(/reset by peer/i);
    const record = await lab.client.waitForCall(connected.callId, isFinal, { timeoutMs: 10_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('caller');
  });

  it('ends an inbound call at its route\'s maximum duration, ENDED by limit, with a BYE to the phone', async () => {
    const since = Date.now();
    await lab.phone.call(SipRegistrar.uri(SHORT_NUMBER));
    const connected = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(connected.state).toBe('CONNECTED');

    const record = await lab.client.waitForCall(connected.callId, isFinal, { timeoutMs: 15_000 });

    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('limit');
    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 5_000 });
    expect(closed.param).toMatch(/reset by peer/i);
  });

  it('answers the caller 480 when the route\'s room cannot be joined, and records FAILED ROOM_JOIN_FAILED', async () => {
    const since = Date.now();

    await lab.phone.call(SipRegistrar.uri(NO_ROOM_NUMBER));

    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 20_000 });
    expect(closed.param).toMatch(/480/);
    const record = await lab.waitInboundCall(since, isFinal);
    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('ROOM_JOIN_FAILED');
    expect(lab.phone.eventsOf('CALL_ESTABLISHED', since)).toHaveLength(0);
  });

  it('refuses a number no route takes with 404, records FAILED ROUTE_NOT_FOUND, and the worker stays registered', async () => {
    const since = Date.now();

    await lab.phone.call(SipRegistrar.uri(UNROUTED_NUMBER));

    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    expect(closed.param).toMatch(/404/);
    const record = await lab.waitInboundCall(since, isFinal);
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'ROUTE_NOT_FOUND', sipCode: 404, fault: 'caller', retryable: false });
    expect(record.to).toContain(UNROUTED_NUMBER);
    expect(record.caller?.number).toBe(PHONE_CALLER.number);
    await lab.registrar!.waitContacts(1, 5_000);
    expect(lab.pool!.workers.filter((w) => w.state === 'ready')).toHaveLength(1);
  });

  it('answers once when two warm workers are registered: one claims the call, the other declines and stays idle', async () => {
    lab.startWorkers(2);
    await lab.pool!.waitReady(2);
    await lab.registrar!.waitContacts(2);
    const since = Date.now();

    await lab.phone.call(SipRegistrar.uri(ROUTED_NUMBER));

    const connected = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(connected.state).toBe('CONNECTED');
    const busy = lab.pool!.workers.filter((w) => w.callId === connected.callId);
    expect(busy).toHaveLength(1);
    const idle = lab.pool!.workers.filter((w) => w.state === 'ready');
    expect(idle).toHaveLength(1);
    // the registrar forked the INVITE to the idle worker too, which lost the claim and declined
    expect(await readFile(idle[0]!.logFile, 'utf8')).toContain('another worker claimed the inbound call: declined 486');
    // the winner left the registrar; the other worker is still there for the next call
    await lab.registrar!.waitContacts(1, 5_000);
    expect(lab.phone.eventsOf('CALL_ESTABLISHED', since)).toHaveLength(1);
    await lab.client.requestHangup(connected.callId);
    const record = await lab.client.waitForCall(connected.callId, isFinal, { timeoutMs: 10_000 });
    lab.startWorkers(1);

    expect(record.state).toBe('ENDED');
    expect(record.attempts).toBe(1);
    const all = await lab.inboundCalls();
    expect(all.filter((r) => r.sip?.sipCallId === connected.sip?.sipCallId)).toHaveLength(1);
  });

  it('answers 480 from the registrar when no worker is idle, and logs the rejection the alarm counts', async () => {
    // the only worker takes a dialled call: it leaves the registrar, which then has nobody to fork to
    const dialled = await lab.client.enqueueDial(lab.dialRequest());
    await lab.client.waitForCall(dialled, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
    await lab.registrar!.waitContacts(0, 5_000);
    const rejectedBefore = (await lab.registrar!.rejections()).length;
    const since = Date.now();

    await lab.phone.call(SipRegistrar.uri(ROUTED_NUMBER));

    const closed = await waitForClosed(since, (e) => /480/.test(e.param ?? ''));
    expect(closed.param).toMatch(/480 No Idle Worker/);
    const rejections = await lab.registrar!.rejections();
    expect(rejections.slice(rejectedBefore)).toEqual([
      { event: 'dial-in-rejected', reason: 'no-idle-worker', dialled: ROUTED_NUMBER },
    ]);
    await lab.client.requestHangup(dialled);
    await lab.client.waitForCall(dialled, isFinal, { timeoutMs: 10_000 });
  });
});

/** The first CALL_CLOSED since `since` that matches (the phone may also close the dialled call meanwhile). */
async function waitForClosed(since: number, match: (event: { param?: string }) => boolean) {
  for (let after = since; ; ) {
    const event = await lab.phone.nextEvent('CALL_CLOSED', { since: after, timeoutMs: 10_000 });
    if (match(event)) return event;
    after = event.receivedAt + 1;
  }
}
