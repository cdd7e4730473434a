import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { hasTone } from '../../lab/audio-analysis.js';
import { dialAndMeasure } from '../../lab/demo-call.js';
import type { Lab } from '../../lab/lab.js';
import { waitUntil } from '../../lab/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { findStep, stepEnd, type SetupStepName } from '../../contracts/setup-trace.js';
import { untilPersonHears } from '../support/heard.js';
import { isFinal, queueDepth, states, useLab } from '../support/lab.js';

/**
 * The real call path: dial queue (fauxqs) → warm worker → headless Chromium → Janus VideoRoom + Janus SIP plugin →
 * baresip / Kamailio, with the call record in dynalite. Every assertion is what a user would check: the tone heard
 * at each end, the SIP code recorded, the BYE or CANCEL seen by the phone, the INVITEs counted.
 */
/** A Janus VideoRoom the lab does not have: Janus refuses the join (426). */
const NO_SUCH_ROOM = 987_654_321;

let lab: Lab;
useLab({ workers: 1, maxReceives: 3 }, (started) => {
  lab = started;
});

describe('a bridged call through the real lab', () => {
  it('carries the room person\'s tone to the phone and the phone\'s tone to the room person', async () => {
    const report = await dialAndMeasure(lab, { talkS: 3 });

    expect(report.finalState).toBe('ENDED');
    expect(report.phoneHeard, 'the phone recorded nothing').toBeDefined();
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    expect(report.phoneHeard!.soundS).toBeGreaterThan(2);
    expect(report.personHeard.soundS).toBeGreaterThan(2);
    const record = report.record;
    expect(states(record)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED']);
    expect(record.sip?.sipCallId).toBeTruthy();
    expect(record.janusNode).toBe(lab.endpoints.janus.wsUrl);
    expect(record.workerId).toMatch(/^lab-worker-/);
    expect(record.quality?.sip.audioIn?.packets).toBeGreaterThan(100);
    expect(record.quality?.sip.audioOut?.packets).toBeGreaterThan(100);
    expect(record.quality?.room.audioIn?.packets).toBeGreaterThan(100);
    expect(record.quality?.sip.audioIn?.lossRate).toBeLessThan(0.01);

    // the setup trace: every step of the path, in order, from the enqueue
    const trace = record.setup!;
    expect(trace.originKind).toBe('enqueued');
    // its zero is the queue's SentTimestamp: after the client's enqueue, before the claim
    expect(Date.parse(trace.origin)).toBeGreaterThanOrEqual(Date.parse(record.timings!.enqueuedAt!));
    expect(Date.parse(trace.origin)).toBeLessThanOrEqual(Date.parse(record.timings!.claimedAt!));
    const at = (name: string) => {
      const step = findStep(trace, name as SetupStepName);
      expect(step, `${name} in ${JSON.stringify(trace.steps.map((s) => s.step))}`).toBeDefined();
      return step!;
    };
    const path = ['queue.wait', 'request.validate', 'claim', 'room.prepare', 'page.join-room', 'page.dial', 'sip.invite', 'sip.ringing', 'sip.answered'];
    const starts = path.map((name) => at(name).at);
    expect(starts, JSON.stringify(trace.steps)).toEqual([...starts].sort((a, b) => a - b));
    for (const step of trace.steps) {
      expect(step.at, step.step).toBeGreaterThanOrEqual(0);
      expect(step.at + (step.ms ?? 0), step.step).toBeLessThan(30_000);
    }
    // the room's own join steps and the SIP leg's happen inside the join command's round trip
    const join = at('page.join-room');
    for (const name of ['room.connect', 'room.join', 'sip.offer']) {
      expect(at(name).at, name).toBeGreaterThanOrEqual(join.at - 1);
      expect(stepEnd(at(name)), name).toBeLessThanOrEqual(stepEnd(join) + 1);
    }
    // the SIP leg's offer was made while the room joined, and the INVITE went only after the join
    expect(at('sip.offer').at).toBeLessThan(stepEnd(at('room.join')));
    expect(at('sip.invite').at).toBeGreaterThanOrEqual(stepEnd(join));
    expect(at('sip.call').at).toBeGreaterThanOrEqual(at('page.dial').at);
    expect(at('media.sip-audio-out').at).toBeGreaterThan(at('sip.invite').at);
    expect(at('media.sip-audio-in').at).toBeGreaterThan(at('sip.invite').at);
  });

  it('never rings the phone for a room the bot cannot join, and records why', async () => {
    const since = Date.now();

    const callId = await lab.client.enqueueDial({ ...lab.dialRequest(), room: { ...lab.endpoints.room, roomId: NO_SUCH_ROOM } });
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 30_000 });

    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('ROOM_JOIN_FAILED');
    expect(record.failure?.reason).toMatch(/room/i);
    // the trace says where it stopped: the join failed, and nothing went to Janus's `call`
    const join = findStep(record.setup, 'page.join-room');
    expect(join?.failed).toBe(true);
    expect(findStep(record.setup, 'room.join')?.failed).toBe(true);
    expect(findStep(record.setup, 'page.dial')).toBeUndefined();
    expect(findStep(record.setup, 'sip.invite')).toBeUndefined();
    // no INVITE reached the phone, even a moment later
    await sleep(2_000);
    expect(lab.phone.invitesSince(since)).toHaveLength(0);
    expect(states(record)).not.toContain('DIALING');
  });

  it('sends a BYE the phone sees when a hangup is requested through the client, and records ENDED by caller', async () => {
    const callId = await lab.client.enqueueDial(lab.dialRequest());
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
    const askedAt = Date.now();

    await lab.client.requestHangup(callId);

    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since: askedAt, timeoutMs: 10_000 });
    expect(closed.param).toMatch(/reset by peer/i);
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('caller');
    expect(Date.parse(record.timings!.endedAt!) - askedAt).toBeLessThan(5_000);
  });

  it('records ENDED by remote when the phone hangs up', async () => {
    const callId = await lab.client.enqueueDial(lab.dialRequest());
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });

    const response = await lab.phone.command('hangup');

    expect(response.ok).toBe(true);
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('remote');
  });

  it.each([
    ['busy', 'SIP_BUSY', 486],
    ['decline', 'SIP_DECLINED', 603],
    ['notFound', 'SIP_NOT_FOUND', 404],
  ] as const)('records FAILED with the SIP code when the callee answers %s', async (target, code, sipCode) => {
    const callId = await lab.client.enqueueDial(lab.dialRequest({ to: lab.endpoints.sip[target] }));

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });

    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code, sipCode, fault: 'remote', retryable: false });
    expect(record.history.at(-1)?.sipCode).toBe(sipCode);
  });

  it('records FAILED SIP_UNREACHABLE for a SIP target nobody listens on', async () => {
    const callId = await lab.client.enqueueDial(lab.dialRequest({ to: lab.endpoints.sip.unreachable }));

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 30_000 });

    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('SIP_UNREACHABLE');
  });

  it('cancels a call nobody answers at the ring timeout and records FAILED SIP_NO_ANSWER', async () => {
    const since = Date.now();
    const callId = await lab.client.enqueueDial(
      lab.dialRequest({ to: lab.endpoints.sip.ringing, limits: { ringTimeoutS: 2 } }),
    );

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });

    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('SIP_NO_ANSWER');
    expect(states(record)).toContain('RINGING');
    const ringingFor = Date.parse(record.timings!.endedAt!) - Date.parse(record.history.find((h) => h.state === 'DIALING')!.at);
    expect(ringingFor).toBeGreaterThanOrEqual(2_000);
    expect(ringingFor).toBeLessThan(8_000);
    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 5_000 });
    expect(closed.accountaor).toContain('ringing');
  });

  it('goes on as an audio call when the SIP peer answers without video, and the record says so', async () => {
    // the lab's phone here has no video modules: it answers the video m-line with port 0
    const since = Date.now();
    const callId = await lab.client.enqueueDial(lab.dialRequest({ media: { video: 'sendrecv' } }));
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
    // more than a second of the phone's audio through the bridge: more than 50 packets of 20 ms
    await untilPersonHears(lab.persons[0]!, { since, hz: 1000, seconds: 1.5 });

    await lab.client.requestHangup(callId);

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });
    expect(record.state).toBe('ENDED');
    expect(record.media).toEqual({ audio: true, video: 'declined', sipAudioCodec: 'opus' });
    expect(record.history.find((h) => h.state === 'CONNECTED')?.detail).toContain('declined video');
    expect(record.quality?.sip.audioIn?.packets).toBeGreaterThan(50);
    expect(record.quality?.sip.videoIn).toBeUndefined();
  });

  it('dials once when the same call is delivered three times to three warm workers', async () => {
    lab.startWorkers(3);
    await lab.pool!.waitReady(3);
    const since = Date.now();
    const body = JSON.stringify({ ...lab.dialRequest(), callId: `dup-${since}` });
    const sqs = lab.emulators.sqsClient();
    for (let i = 0; i < 3; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: lab.emulators.queueUrl, MessageBody: body }));
    }

    const connected = await lab.client.waitForCall(`dup-${since}`, (r) => r.state === 'CONNECTED' || isFinal(r), {
      timeoutMs: 20_000,
    });
    // both duplicates dropped while the call is up: only the call's own message is left, in flight
    await waitUntil(async () => {
      const { visible, inFlight } = await queueDepth(lab);
      return visible === 0 && inFlight === 1;
    }, { timeoutMs: 15_000, what: 'the two other deliveries to be dropped as duplicates' });
    await lab.client.requestHangup(`dup-${since}`);
    const record = await lab.client.waitForCall(`dup-${since}`, isFinal, { timeoutMs: 10_000 });
    lab.startWorkers(1);

    expect(connected.state).toBe('CONNECTED');
    expect(lab.phone.invitesSince(since)).toHaveLength(1);
    expect(record.attempts).toBe(1);
    expect(record.state).toBe('ENDED');
  });
});
