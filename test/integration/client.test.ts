import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { RoomlineError } from '../../contracts/errors.js';
import { RoomlineClient } from '../../worker/client.js';
import { acknowledgeControl, claim, newQueuedRecord, transition } from '../../worker/call-state.js';
import { startEmulators, type EmulatorFixture } from '../support/emulators.js';

const request = {
  version: 1,
  to: 'sip:alice@127.0.0.1:5090',
  room: { provider: 'janus', serverUrl: 'ws://127.0.0.1:8188/', roomId: 1234, pin: 'room-secret' },
};

/** A QUEUED record as the client writes it before sending, without the message. */
function recordOnly(callId: string) {
  return newQueuedRecord({ ...parseDialRequest({ ...request, callId }), callId }, new Date());
}

let fixture: EmulatorFixture;
let client: RoomlineClient;
beforeAll(async () => {
  fixture = await startEmulators();
  client = new RoomlineClient({
    queueUrl: fixture.emulators.queueUrl,
    tableName: fixture.emulators.tableName,
    sqs: fixture.sqs,
    dynamodb: fixture.emulators.dynamodbClient(),
  });
});
afterAll(async () => {
  await fixture.stop();
});

describe('client library on the emulators', () => {
  it('validates, assigns a callId, records the call QUEUED and puts one message on the queue', async () => {
    const before = await fixture.count(fixture.emulators.queueUrl);

    const callId = await client.enqueueDial(request);

    expect(callId).toMatch(/^[0-9a-f-]{36}$/);
    const record = await client.getCall(callId);
    expect(record?.state).toBe('QUEUED');
    expect(record?.request?.limits.ringTimeoutS).toBe(45);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(before + 1);
    const message = await fixture.queue.receiveOne({ waitS: 1, visibilityS: 30 });
    expect(JSON.parse(message!.body)).toMatchObject({ callId, to: request.to, version: 1 });
    await fixture.queue.delete(message!);
  });

  it('treats the callId as idempotency key: once a worker took the call, enqueueing it again sends nothing', async () => {
    const first = await client.enqueueDial({ ...request, callId: 'idem-1' });
    await fixture.store.update('idem-1', (current) =>
      claim(current, { request: { ...parseDialRequest({ ...request, callId: 'idem-1' }), callId: 'idem-1' }, workerId: 'w1', leaseMs: 10_000, now: new Date() }).record,
    );
    const before = await fixture.count(fixture.emulators.queueUrl);

    const second = await client.enqueueDial({ ...request, callId: 'idem-1' });

    expect([first, second]).toEqual(['idem-1', 'idem-1']);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(before);
    expect((await client.getCall('idem-1'))?.state).toBe('CLAIMED');
  });

  it('sends a call again when its record is QUEUED but no worker ever took it (the first sender may have died before sending)', async () => {
    // a client that died between recording the call and sending it left only the record
    await fixture.store.create(recordOnly('orphan-record'));
    const before = await fixture.count(fixture.emulators.queueUrl);

    const callId = await client.enqueueDial({ ...request, callId: 'orphan-record' });

    expect(callId).toBe('orphan-record');
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(before + 1);
    expect((await client.getCall('orphan-record'))?.history.map((h) => h.state)).toEqual(['QUEUED']);
  });

  it('ends a call no worker took yet at once when a hangup is requested, so that it is never dialed', async () => {
    const callId = await client.enqueueDial(request);

    const record = await client.requestHangup(callId);
    const message = await fixture.queue.receiveOne({ waitS: 1, visibilityS: 30 });
    const delivered = claim(await client.getCall(callId), {
      request: { ...parseDialRequest({ ...request, callId }), callId },
      workerId: 'w1',
      leaseMs: 10_000,
      now: new Date(),
    });

    expect(record).toMatchObject({ state: 'ENDED', endedBy: 'caller' });
    expect(record.history.map((h) => h.state)).toEqual(['QUEUED', 'ENDED']);
    expect(delivered.outcome).toBe('duplicate');
    await fixture.queue.delete(message!);
  });

  it('refuses an invalid request at the edge with a readable reason and sends nothing', async () => {
    const before = await fixture.count(fixture.emulators.queueUrl);

    const attempt = client.enqueueDial({ ...request, to: 'alice' });

    await expect(attempt).rejects.toBeInstanceOf(RoomlineError);
    await expect(attempt).rejects.toThrow(/invalid dial request: to: must be a sip: or sips: URI/);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(before);
  });

  it('records a hangup request on a live call, once, and changes nothing on a finished one', async () => {
    const callId = await client.enqueueDial(request);
    const claimed = claim(await client.getCall(callId), {
      // what a worker claims with: the request from the queue (with its secrets), not the record's redacted copy
      request: { ...parseDialRequest(request), callId },
      workerId: 'w1',
      leaseMs: 10_000,
      now: new Date(),
    });
    await fixture.store.update(callId, () => claimed.record);

    const asked = await client.requestHangup(callId);
    const again = await client.requestHangup(callId);
    await fixture.store.update(callId, (r) => transition(r!, { to: 'ENDED', workerId: 'w1', now: new Date(), endedBy: 'caller' }));
    const afterEnd = await client.requestHangup(callId);

    expect(asked.hangupRequestedAt).toBeDefined();
    expect(again.hangupRequestedAt).toBe(asked.hangupRequestedAt);
    expect(afterEnd.state).toBe('ENDED');
  });

  it('says clearly when asked to hang up a call that does not exist', async () => {
    await expect(client.requestHangup('no-such-call')).rejects.toThrow('no call with callId no-such-call');
  });

  it('lets concurrent writers of one record each win exactly once (optimistic concurrency)', async () => {
    const callId = await client.enqueueDial(request);
    const claims = await Promise.all(
      ['w1', 'w2', 'w3'].map(async (workerId) => {
        let won = false;
        await fixture.store.update(callId, (current) => {
          const outcome = claim(current, { request: { ...parseDialRequest(request), callId }, workerId, leaseMs: 10_000, now: new Date() });
          won = outcome.outcome === 'claimed';
          return outcome.record;
        });
        return won;
      }),
    );

    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await client.getCall(callId))?.attempts).toBe(1);
  });

  it('puts control requests of a connected call into its record, each once, concurrently, and reports them carried out', async () => {
    // Prepare: a call a worker connected
    const callId = await client.enqueueDial(request);
    await fixture.store.update(callId, (current) => {
      let record = claim(current, { request: { ...parseDialRequest(request), callId }, workerId: 'w1', leaseMs: 10_000, now: new Date() }).record;
      for (const to of ['JOINING', 'DIALING', 'RINGING', 'CONNECTED'] as const) record = transition(record, { to, workerId: 'w1', now: new Date() });
      return record;
    });

    // Act
    const ids = await Promise.all([client.sendDtmf(callId, '12#'), client.hold(callId), client.transfer(callId, 'sip:desk@127.0.0.1')]);
    const waiting = client.waitForControl(callId, ids[1], { timeoutMs: 5_000, intervalMs: 50 });
    await fixture.store.update(callId, (r) => acknowledgeControl(r!, ids[1], { ok: true }, new Date()));
    const hold = await waiting;

    // Assess
    const record = await client.getCall(callId);
    expect(new Set(record?.controls?.map((c) => c.id))).toEqual(new Set(ids));
    expect(record?.controls?.find((c) => c.id === ids[0])?.control).toEqual({ type: 'dtmf', digits: '12#' });
    expect(hold).toMatchObject({ id: ids[1], status: 'done', control: { type: 'hold' } });
  });

  it('refuses a control request for a call that is not connected, or that is invalid, and writes nothing', async () => {
    const callId = await client.enqueueDial(request);
    const before = await client.getCall(callId);

    await expect(client.hold(callId)).rejects.toThrow(/is QUEUED: hold needs a connected call/);
    await expect(client.sendDtmf(callId, '12x')).rejects.toThrow(/invalid control request: digits/);
    await expect(client.resume('no-such-call')).rejects.toThrow('no call with callId no-such-call');
    expect((await client.getCall(callId))?.revision).toBe(before?.revision);
  });
});
