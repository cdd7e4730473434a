import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { Lab } from '../../lab/lab.js';
import { waitUntil } from '../../lab/wait.js';
import type { LabWorker } from '../../lab/worker-pool.js';
import { isFinal, queueDepth, states, useLab } from '../support/lab.js';

/**
 * Faults injected on the real lab: a worker killed, its Chromium killed, Janus killed (idle, at claim, mid-call), a
 * worker cut off from Janus without a FIN, DynamoDB and SQS unreachable for 5 s, a call longer than the visibility
 * timeout, hangups while queued and while ringing, a message that comes back after its worker died. Each test prints
 * what it measured (time to the phone's BYE, to the bot leaving the room, to the final record); the file ends with the
 * table of them all.
 *
 * One lab for the file, with what the faults need: two SIP-only Janus nodes besides the room's (so one can die without
 * the room), doors in front of the emulators, a short lease and sweep, and a visibility timeout of 12 s. One warm
 * worker at a time, so that which worker takes a call is known; the pool replaces it after each call, and every worker
 * sweeps, so the replacement of a killed worker closes its call.
 */
const LEASE_S = 10;
const SWEEP_S = 2;
const VISIBILITY_S = 12;

// The sleeps below are the injected faults' own durations (an outage that lasts 5 s, nodes restarted 2 s after being
// killed, a call kept up past the visibility timeout), never waits for something to happen: those wait on a condition.
let lab: Lab;
useLab(
  {
    workers: 1,
    maxReceives: 3,
    janusSipNodes: 2,
    emulatorGates: true,
    visibilityTimeoutS: VISIBILITY_S,
    workerEnv: {
      ROOMLINE_LEASE_S: String(LEASE_S),
      ROOMLINE_SWEEP_INTERVAL_S: String(SWEEP_S),
      ROOMLINE_POLL_WAIT_S: '2',
      ROOMLINE_QUALITY_INTERVAL_S: '0',
    },
  },
  (started) => {
    lab = started;
  },
);

/** What each fault showed, for the table at the end (ms from the fault, or a word). */
const figures: { fault: string; phone: string; room: string; record: string }[] = [];
function report(fault: string, seen: { phone: string; room: string; record: string }): void {
  figures.push({ fault, ...seen });
  process.stdout.write(`[fault] ${fault}: phone ${seen.phone}; room ${seen.room}; record ${seen.record}\n`);
}
afterAll(() => {
  const rows = figures.map((f) => `| ${f.fault} | ${f.phone} | ${f.room} | ${f.record} |`);
  process.stdout.write(`\n| fault | phone | room | record |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`);
});

const connected = (r: CallRecord) => r.state === 'CONNECTED' || isFinal(r);

/** Dials the lab's phone into the room; returns once connected, with the worker holding the call. */
async function connectedCall(): Promise<{ callId: string; worker: LabWorker; record: CallRecord; since: number }> {
  const since = Date.now();
  const callId = await lab.client.enqueueDial(lab.dialRequest());
  const record = await lab.client.waitForCall(callId, connected, { timeoutMs: 20_000 });
  expect(record.state).toBe('CONNECTED');
  const worker = lab.pool!.workers.find((w) => w.callId === callId);
  if (worker === undefined) throw new Error(`no lab worker holds call ${callId}`);
  return { callId, worker, record, since };
}

/** Ms from `from` to the record's end. */
const endedAfter = (record: CallRecord, from: number) => Date.parse(record.timings!.endedAt!) - from;

describe('faults injected on the real lab', () => {
  it('a worker killed mid-call (SIGKILL): BYE at once, the bot leaves, WORKER_LOST within lease + sweep, never dialed again', async () => {
    // a second worker, idle: it sweeps while the first is killed (as the warm pool's idle workers do in AWS)
    lab.startWorkers(2);
    await lab.pool!.waitReady(2, 60_000);
    const { callId, worker, since } = await connectedCall();
    lab.startWorkers(1);
    const killedAt = Date.now();

    worker.child.kill('SIGKILL');

    const bye = await lab.phone.nextEvent('CALL_CLOSED', { since: killedAt, timeoutMs: 5_000 });
    const left = await lab.persons[0]!.leftAt('Phone', { since: killedAt, timeoutMs: 5_000 });
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: (LEASE_S + SWEEP_S * 2) * 1000 + 5_000 });
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'WORKER_LOST', fault: 'us', retryable: false });
    // the lease was renewed at most a third of it before the kill; the next sweep comes within 1.2 intervals
    expect(endedAfter(record, killedAt)).toBeLessThanOrEqual((LEASE_S + SWEEP_S * 1.2) * 1000 + 1_000);
    // the dial message comes back after its visibility timeout: it is taken and dropped, and nothing is dialed again
    await waitUntil(async () => (({ visible, inFlight }) => visible + inFlight === 0)(await queueDepth(lab)), {
      timeoutMs: (VISIBILITY_S + 10) * 1000,
      what: 'the dial message of the lost call to come back and be dropped',
    });
    expect(lab.phone.invitesSince(since)).toHaveLength(1);
    expect((await lab.client.getCall(callId))?.state).toBe('FAILED');
    report('worker killed (SIGKILL) mid-call', {
      phone: `BYE after ${bye.receivedAt - killedAt} ms`,
      room: `bot left after ${left - killedAt} ms`,
      record: `FAILED WORKER_LOST after ${endedAfter(record, killedAt)} ms (${/found by the (\w+)/.exec(record.failure!.reason)?.[1]}); 1 INVITE`,
    });
  });

  it('Chromium killed mid-call: BYE at the phone, FAILED BROWSER_CRASHED, and the worker exits cleanly', async () => {
    const { callId, worker } = await connectedCall();
    const chromium = await lab.chromiumOf(worker);
    const killedAt = Date.now();

    process.kill(chromium, 'SIGKILL');

    const bye = await lab.phone.nextEvent('CALL_CLOSED', { since: killedAt, timeoutMs: 5_000 });
    const left = await lab.persons[0]!.leftAt('Phone', { since: killedAt, timeoutMs: 5_000 });
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    await waitUntil(() => worker.state === 'exited', { timeoutMs: 15_000, what: 'the worker to exit' });
    expect(record.state).toBe('FAILED');
    expect(record.failure).toMatchObject({ code: 'BROWSER_CRASHED', fault: 'us', retryable: false });
    expect(worker.exitCode).toBe(0);
    report('Chromium killed mid-call', {
      phone: `BYE after ${bye.receivedAt - killedAt} ms`,
      room: `bot left after ${left - killedAt} ms`,
      record: `FAILED BROWSER_CRASHED after ${endedAfter(record, killedAt)} ms; worker exit 0`,
    });
  });

  it('a worker cut off from its Janus node without a FIN: BYE within 5 s, the bot leaves, FAILED JANUS_UNAVAILABLE', async () => {
    const { callId, worker, record: live } = await connectedCall();
    const cut = await lab.cutNetworkOf(worker, live.janusNode);
    const cutAt = Date.now();

    try {
      const bye = await lab.phone.nextEvent('CALL_CLOSED', { since: cutAt, timeoutMs: 5_000 });
      const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 20_000 });
      const left = await lab.persons[0]!.leftAt('Phone', { since: cutAt, timeoutMs: 10_000 });
      expect(bye.receivedAt - cutAt).toBeLessThanOrEqual(5_000);
      expect(record.state).toBe('FAILED');
      expect(record.failure).toMatchObject({ code: 'JANUS_UNAVAILABLE', fault: 'us', retryable: false });
      report("worker's connection to Janus cut silently (no FIN) mid-call", {
        phone: `BYE after ${bye.receivedAt - cutAt} ms`,
        room: `bot left after ${left - cutAt} ms`,
        record: `FAILED JANUS_UNAVAILABLE after ${endedAfter(record, cutAt)} ms`,
      });
    } finally {
      await cut.restore();
    }
  });

  it('Janus killed mid-call: the record ends FAILED JANUS_UNAVAILABLE and the worker exits cleanly', async () => {
    const { callId, worker, record: live } = await connectedCall();
    const janus = lab.janusAt(live.janusNode!);
    const killedAt = Date.now();

    await janus.kill();

    try {
      const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
      const left = await lab.persons[0]!.leftAt('Phone', { since: killedAt, timeoutMs: 10_000 });
      await waitUntil(() => worker.state === 'exited', { timeoutMs: 15_000, what: 'the worker to exit' });
      expect(record.state).toBe('FAILED');
      expect(record.failure).toMatchObject({ code: 'JANUS_UNAVAILABLE', fault: 'us', retryable: false });
      expect(worker.exitCode).toBe(0);
      report('Janus (SIP node) killed mid-call', {
        phone: 'no BYE: its Janus is gone (the call ends at the phone or at its peer timeout)',
        room: `bot left after ${left - killedAt} ms`,
        record: `FAILED JANUS_UNAVAILABLE after ${endedAfter(record, killedAt)} ms; worker exit 0`,
      });
    } finally {
      // the phone's half of the call outlives the Janus that carried it
      await lab.phone.command('hangup').catch(() => undefined);
      await janus.restart(lab.hostWsUrl(janus));
    }
  });

  it('Janus killed while the worker is idle, then restarted: the same worker reopens its session and connects the next call', async () => {
    const idle = lab.pool!.workers.find((w) => w.state === 'ready')!;
    const killedAt = Date.now();

    await Promise.all(lab.sipJanus.map((node) => node.kill()));
    await sleep(2_000);
    await Promise.all(lab.sipJanus.map((node) => node.restart(lab.hostWsUrl(node))));
    const restartedAt = Date.now();
    const { record } = await connectedCall();

    expect(record.workerId).toBe(`lab-worker-${idle.index}`);
    expect(lab.endpoints.janusSipUrls).toContain(record.janusNode);
    report('both Janus SIP nodes killed while idle, restarted 2 s later', {
      phone: `next call connected ${Date.parse(record.timings!.answeredAt!) - restartedAt} ms after the restart`,
      room: 'next call joined',
      record: `CONNECTED by the same worker (session reopened; ${restartedAt - killedAt} ms down)`,
    });
  });

  it('one of two Janus nodes down at claim: the call goes through the other', async () => {
    const idle = lab.pool!.workers.find((w) => w.state === 'ready')!;
    const usedNode = await workerJanusNode(idle);
    const down = lab.janusAt(usedNode);
    const other = lab.endpoints.janusSipUrls.find((url) => url !== usedNode)!;

    await down.kill();
    try {
      const { record } = await connectedCall();

      expect(record.janusNode).toBe(other);
      expect(record.workerId).toBe(`lab-worker-${idle.index}`);
      expect(record.attempts).toBe(1);
      report('one of two Janus SIP nodes down at claim', {
        phone: 'answered',
        room: 'joined',
        record: `CONNECTED through the other node on the first attempt`,
      });
    } finally {
      await down.restart(lab.hostWsUrl(down));
    }
  });

  it('DynamoDB unreachable for 5 s mid-call: the worker waits it out and writes the final state once it is back', async () => {
    const { callId, worker } = await connectedCall();
    const gate = lab.gates!.dynamodb;
    const closedAt = Date.now();

    await gate.close();
    await sleep(1_000);
    // the phone hangs up while the table cannot be written
    await lab.phone.command('hangup');
    await sleep(4_000);
    const during = await lab.client.getCall(callId);
    await gate.open();
    const openedAt = Date.now();

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    await waitUntil(() => worker.state === 'exited', { timeoutMs: 15_000, what: 'the worker to exit' });
    expect(during?.state).toBe('CONNECTED');
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('remote');
    expect(worker.exitCode).toBe(0);
    report('DynamoDB unreachable for 5 s mid-call (phone hangs up during it)', {
      phone: 'hung up itself 1 s into the outage',
      room: 'bot left when the call ended',
      record: `ENDED remote ${endedAfter(record, openedAt)} ms after the table came back (${openedAt - closedAt} ms outage)`,
    });
  });

  it('SQS unreachable for 5 s while the worker is idle: it polls again with backoff, does not crash, and takes the next call', async () => {
    const idle = lab.pool!.workers.find((w) => w.state === 'ready')!;
    const gate = lab.gates!.sqs;

    await gate.close();
    // enqueued meanwhile by a client that still reaches SQS, once the poll the outage cut has run out its wait on the
    // emulator's side (a message sent earlier may be handed to that dead poll and wait out its visibility timeout)
    await sleep(3_000);
    const callId = await lab.client.enqueueDial(lab.dialRequest());
    await sleep(2_000);
    expect(idle.state).toBe('ready');
    await gate.open();
    const openedAt = Date.now();

    const record = await lab.client.waitForCall(callId, connected, { timeoutMs: 20_000 });
    expect(record.state).toBe('CONNECTED');
    expect(record.workerId).toBe(`lab-worker-${idle.index}`);
    report('SQS unreachable for 5 s while idle (a call enqueued 3 s into it)', {
      phone: `answered ${Date.parse(record.timings!.answeredAt!) - openedAt} ms after SQS came back`,
      room: 'joined',
      record: `claimed ${Date.parse(record.timings!.claimedAt!) - openedAt} ms after SQS came back; same worker`,
    });
  });

  it('a call longer than the visibility timeout: one INVITE, the message never visible again, ENDED normally', async () => {
    const { callId, since } = await connectedCall();
    const seen: { visible: number; inFlight: number }[] = [];

    const until = Date.parse((await lab.client.getCall(callId))!.timings!.claimedAt!) + 20_000;
    while (Date.now() < until) {
      seen.push(await queueDepth(lab));
      await sleep(500);
    }
    await lab.client.requestHangup(callId);
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });

    expect(seen.every((depth) => depth.visible === 0 && depth.inFlight === 1)).toBe(true);
    expect(lab.phone.invitesSince(since)).toHaveLength(1);
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('caller');
    expect(record.attempts).toBe(1);
    report(`a 20 s call with a ${VISIBILITY_S} s visibility timeout`, {
      phone: '1 INVITE, BYE at the hangup',
      room: 'bot stayed until the hangup',
      record: `ENDED caller; the message stayed in flight for all ${seen.length} samples`,
    });
  });

  it('a hangup asked while the call is QUEUED: ENDED by the caller, no INVITE at all', async () => {
    const gate = lab.gates!.sqs;
    const since = Date.now();
    // the worker cannot receive while the call is asked for and hung up (after the poll the outage cut has run out)
    await gate.close();
    await sleep(3_000);
    const callId = await lab.client.enqueueDial(lab.dialRequest());
    const asked = await lab.client.requestHangup(callId);
    await gate.open();

    await waitUntil(async () => (({ visible, inFlight }) => visible + inFlight === 0)(await queueDepth(lab)), {
      timeoutMs: 15_000,
      what: 'the dial message to be received and dropped',
    });
    const record = await lab.client.getCall(callId);
    expect(asked.state).toBe('ENDED');
    expect(states(record)).toEqual(['QUEUED', 'ENDED']);
    expect(record?.endedBy).toBe('caller');
    expect(lab.phone.invitesSince(since)).toHaveLength(0);
    report('hangup while QUEUED', { phone: 'no INVITE', room: 'bot never joined', record: 'ENDED caller, never claimed' });
  });

  it('a hangup asked while the phone rings: the phone sees a CANCEL, the record says ENDED by the caller', async () => {
    const since = Date.now();
    const callId = await lab.client.enqueueDial(lab.dialRequest({ to: lab.endpoints.sip.ringing }));
    await lab.client.waitForCall(callId, (r) => r.state === 'RINGING' || isFinal(r), { timeoutMs: 20_000 });
    const askedAt = Date.now();

    await lab.client.requestHangup(callId);

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });
    await lab.phone.nextEvent('CALL_CLOSED', { since: askedAt, timeoutMs: 5_000 });
    const invite = (await lab.phone.receivedInvites()).find((i) => i.callId === record.sip?.sipCallId);
    const cancels = (await lab.phone.receivedRequests('CANCEL')).filter((c) => c.callId === record.sip?.sipCallId);
    expect(invite).toBeDefined();
    expect(cancels).toHaveLength(1);
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('caller');
    expect(record.history.at(-1)?.detail).toBe('cancelled before answer');
    expect(lab.phone.invitesSince(since)).toHaveLength(1);
    report('hangup while RINGING', {
      phone: 'CANCEL for its INVITE',
      room: 'bot left',
      record: `ENDED caller ${endedAfter(record, askedAt)} ms after the request`,
    });
  });
});

/** The Janus node an idle worker's session is on now (its ready notice, or the last node its log says it opened). */
async function workerJanusNode(worker: LabWorker): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const log = await readFile(worker.logFile, 'utf8');
  const opened = [...log.matchAll(/"janusNode":"([^"]+)"[^\n]*"msg":"Janus session open"/g)].map((m) => m[1]!);
  return opened.at(-1) ?? worker.janusNode!;
}
