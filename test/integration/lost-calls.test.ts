import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { CallSweeper } from '../../worker/call-sweeper.js';
import { claim, newQueuedRecord, transition } from '../../worker/call-state.js';
import { createLogger } from '../../worker/logger.js';
import { startEmulators, type EmulatorFixture } from '../support/emulators.js';

/** Calls whose worker is gone, on the emulator: the sweeper closes them, a live worker's lease keeps its call. */
const logger = createLogger({ level: 'silent' });
let fixture: EmulatorFixture;
beforeEach(async () => {
  fixture = await startEmulators();
});
afterEach(async () => {
  await fixture.stop();
});

/** A call held by `workerId` in `state`, with a lease of `leaseMs` from now. */
async function heldCall(callId: string, workerId: string, leaseMs: number, state: 'CLAIMED' | 'CONNECTED' = 'CONNECTED') {
  const request = {
    ...parseDialRequest({ version: 1, callId, to: 'sip:alice@127.0.0.1', room: { provider: 'janus', serverUrl: 'ws://j/', roomId: 1 } }),
    callId,
  };
  let record = claim(newQueuedRecord(request, new Date()), { request, workerId, leaseMs, now: new Date() }).record;
  if (state === 'CONNECTED') {
    for (const to of ['JOINING', 'DIALING', 'CONNECTED'] as const) record = transition(record, { to, workerId, now: new Date() });
  }
  await fixture.store.create(record);
  return record;
}

describe('closing calls whose worker is gone', () => {
  it('closes a call whose lease ran out as FAILED WORKER_LOST, and leaves calls with a live lease alone', async () => {
    await heldCall('dead-worker', 'w-dead', 50);
    await heldCall('live-worker', 'w-live', 60_000);
    await fixture.store.create(newQueuedRecord({ ...parseDialRequest({ version: 1, callId: 'waiting', to: 'sip:a@b', room: { provider: 'janus', serverUrl: 'ws://j/', roomId: 1 } }), callId: 'waiting' }, new Date()));
    await sleep(100);
    const sweeper = new CallSweeper({ store: fixture.store, logger, intervalMs: 1_000 });

    const closed = await sweeper.sweepOnce();

    expect(closed.map((r) => r.callId)).toEqual(['dead-worker']);
    const dead = await fixture.store.get('dead-worker');
    expect(dead?.state).toBe('FAILED');
    expect(dead?.failure).toMatchObject({ code: 'WORKER_LOST', fault: 'us', retryable: false });
    expect(dead?.failure?.reason).toContain('worker w-dead stopped renewing its lease while the call was CONNECTED (found by the sweeper');
    expect((await fixture.store.get('live-worker'))?.state).toBe('CONNECTED');
    expect((await fixture.store.get('waiting'))?.state).toBe('QUEUED');
    expect((await fixture.store.activeCalls()).map((r) => r.callId).sort()).toEqual(['live-worker', 'waiting']);
  });

  it('closes a lost call once when several workers sweep at the same time', async () => {
    await heldCall('orphan', 'w-dead', 10);
    await sleep(50);
    const sweepers = [1, 2, 3].map(() => new CallSweeper({ store: fixture.store, logger, intervalMs: 1_000 }));

    const results = await Promise.all(sweepers.map((s) => s.sweepOnce()));

    expect(results.flat()).toHaveLength(1);
    expect((await fixture.store.get('orphan'))?.history.filter((h) => h.state === 'FAILED')).toHaveLength(1);
  });

  it('sweeps on its own timer until stopped', async () => {
    await heldCall('later', 'w-dead', 300);
    const sweeper = new CallSweeper({ store: fixture.store, logger, intervalMs: 200 });

    sweeper.start();
    const deadline = Date.now() + 3_000;
    while ((await fixture.store.get('later'))?.state !== 'FAILED' && Date.now() < deadline) await sleep(50);
    await sweeper.stop();

    const record = await fixture.store.get('later');
    expect(record?.state).toBe('FAILED');
    // within the lease (300 ms) and one sweep interval (200 ms, ±20 %) of the claim, plus a second to read and write
    expect(Date.parse(record!.timings!.endedAt!) - Date.parse(record!.timings!.claimedAt!)).toBeLessThan(300 + 240 + 1_000);
  });

  it("renews a lease for the call's own worker, and tells a worker whose call was taken over that it is lost", async () => {
    await heldCall('renewed', 'w1', 1_000);
    await heldCall('taken', 'w1', 10);
    await sleep(50);
    await new CallSweeper({ store: fixture.store, logger, intervalMs: 1_000 }).sweepOnce();

    const renewed = await fixture.store.renewLease('renewed', 'w1', 5_000);
    const byOther = await fixture.store.renewLease('renewed', 'w2', 5_000);
    const taken = await fixture.store.renewLease('taken', 'w1', 5_000);

    expect(renewed.kind).toBe('renewed');
    expect((await fixture.store.get('renewed'))?.leaseExpiresAt).toBe(renewed.kind === 'renewed' ? renewed.leaseExpiresAt : -1);
    expect(byOther.kind).toBe('lost');
    expect(taken).toMatchObject({ kind: 'lost', record: { state: 'FAILED', failure: { code: 'WORKER_LOST' } } });
  });
});
