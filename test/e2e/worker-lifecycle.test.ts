import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { LAB_ROOM_IDS } from '../../lab/janus-server.js';
import type { Lab } from '../../lab/lab.js';
import { waitUntil } from '../../lab/wait.js';
import { isFinal, queueDepth, states, useLab } from '../support/lab.js';

/** How a real worker behaves around its one call: stop signals, bad input, an empty room, a room it cannot reach. */
let lab: Lab;
useLab({ workers: 1, maxReceives: 2 }, (started) => {
  lab = started;
});

describe('a worker around its call', () => {
  it('on SIGTERM during a call sends BYE, records ENDED by system and exits within 10 s', async () => {
    const callId = await lab.client.enqueueDial(lab.dialRequest());
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
    const worker = lab.pool!.workers.find((w) => w.callId === callId)!;
    const signalledAt = Date.now();

    worker.child.kill('SIGTERM');

    await waitUntil(() => worker.state === 'exited', { timeoutMs: 10_000, what: 'the worker to exit' });
    const exitedAfter = Date.now() - signalledAt;
    const closed = await lab.phone.nextEvent('CALL_CLOSED', { since: signalledAt, timeoutMs: 1_000 });
    const record = await lab.client.getCall(callId);
    expect(exitedAfter).toBeLessThan(10_000);
    expect(worker.exitCode).toBe(0);
    expect(closed.param).toMatch(/reset by peer/i);
    expect(record?.state).toBe('ENDED');
    expect(record?.endedBy).toBe('system');
  });

  it('records a malformed request FAILED INVALID_REQUEST, deletes it, and stays warm for the next call', async () => {
    const worker = lab.pool!.workers.find((w) => w.state === 'ready')!;
    const sqs = lab.emulators.sqsClient();

    await sqs.send(
      new SendMessageCommand({
        QueueUrl: lab.emulators.queueUrl,
        MessageBody: JSON.stringify({ ...lab.dialRequest(), callId: 'malformed-1', headers: { Contact: 'evil' } }),
      }),
    );

    const record = await lab.client.waitForCall('malformed-1', isFinal, { timeoutMs: 20_000 });
    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('INVALID_REQUEST');
    expect(record.failure?.reason).toContain('headers.Contact: invalid name: only X- headers may be set');
    const callId = await lab.client.enqueueDial(lab.dialRequest());
    const next = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
    expect(next.state).toBe('CONNECTED');
    expect(next.workerId).toBe(`lab-worker-${worker.index}`);
  });

  it('hangs up and records ENDED by room when everyone else has left the room', async () => {
    const roomId = LAB_ROOM_IDS[1];
    const person = await lab.addPerson({ display: 'Bob', toneHz: 700 }, roomId);
    const callId = await lab.client.enqueueDial(
      lab.dialRequest({
        room: { ...lab.endpoints.room, roomId },
        limits: { ringTimeoutS: 20, maxDurationS: 120, emptyRoomTimeoutS: 2 },
      }),
    );
    await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
    const leftAt = Date.now();

    await person.leave();

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('room');
    const endedAfter = Date.parse(record.timings!.endedAt!) - leftAt;
    expect(endedAfter).toBeGreaterThanOrEqual(1_900);
    expect(endedAfter).toBeLessThan(8_000);
  });

  it('retries a call whose room server cannot be reached, then records it FAILED and parks it in the DLQ', async () => {
    const callId = await lab.client.enqueueDial(
      // the lab's room host (so the allow-list lets it through), on a port nobody listens on
      lab.dialRequest({ room: { provider: 'janus', serverUrl: `ws://${new URL(lab.endpoints.room.serverUrl).hostname}:9/`, roomId: 1 } }),
    );

    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 60_000 });

    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('ROOM_UNREACHABLE');
    expect(record.attempts).toBe(2);
    expect(states(record).filter((s) => s === 'CLAIMED')).toHaveLength(2);
    expect(lab.phone.invitesSince(Date.parse(record.createdAt))).toHaveLength(0);
    // SQS moves the message on its next receive, which the warm worker's long poll makes
    await waitUntil(async () => (await queueDepth(lab, lab.emulators.deadLetterQueueUrl)).visible === 1, {
      timeoutMs: 30_000,
      what: 'the message in the dead-letter queue',
    });
  });
});
