import { describe, expect, it } from 'vitest';
import { parseDialRequest } from '../../contracts/dial-request.js';
import {
  claim,
  invalidRequestRecord,
  leaseExpired,
  markLost,
  newQueuedRecord,
  release,
  requestHangup,
  transition,
} from '../../worker/call-state.js';

const request = {
  ...parseDialRequest({
    version: 1,
    to: 'sip:alice@example.com',
    room: { provider: 'janus', serverUrl: 'ws://janus.example.com', roomId: 1 },
  }),
  callId: 'call-1',
};
const t0 = new Date('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('call state machine', () => {
  it('claims a call nobody has recorded yet, writing QUEUED then CLAIMED with the claimer as owner', () => {
    const outcome = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: at(100), enqueuedAt: t0 });

    expect(outcome.outcome).toBe('claimed');
    expect(outcome.record.state).toBe('CLAIMED');
    expect(outcome.record.workerId).toBe('w1');
    expect(outcome.record.history.map((h) => h.state)).toEqual(['QUEUED', 'CLAIMED']);
    expect(outcome.record.history[0]!.at).toBe(t0.toISOString());
    expect(outcome.record.leaseExpiresAt).toBe(at(20_100).getTime());
    expect(outcome.record.attempts).toBe(1);
  });

  it('claims a QUEUED record written by the client, keeping its history', () => {
    const queued = newQueuedRecord(request, t0);

    const outcome = claim(queued, { request, workerId: 'w1', leaseMs: 20_000, now: at(50) });

    expect(outcome.outcome).toBe('claimed');
    expect(outcome.record.revision).toBe(queued.revision + 1);
    expect(outcome.record.timings).toEqual({ enqueuedAt: t0.toISOString(), claimedAt: at(50).toISOString() });
  });

  it('treats a delivery of a call another worker holds as a duplicate', () => {
    const held = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;

    const outcome = claim(held, { request, workerId: 'w2', leaseMs: 20_000, now: at(1_000) });

    expect(outcome).toEqual({ outcome: 'duplicate', record: held });
  });

  it('treats a delivery of a finished call as a duplicate', () => {
    const held = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;
    const ended = transition(held, { to: 'ENDED', workerId: 'w1', now: at(5), endedBy: 'caller' });

    expect(claim(ended, { request, workerId: 'w2', leaseMs: 20_000, now: at(60_000) }).outcome).toBe('duplicate');
  });

  it('reports a call whose owner stopped renewing its lease as abandoned, and closes it as WORKER_LOST', () => {
    const held = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;

    const outcome = claim(held, { request, workerId: 'w2', leaseMs: 20_000, now: at(20_001) });
    const lost = markLost(outcome.record, at(20_002));

    expect(outcome.outcome).toBe('abandoned');
    expect(lost.state).toBe('FAILED');
    expect(lost.failure).toMatchObject({ code: 'WORKER_LOST', fault: 'us', retryable: false });
    expect(lost.leaseExpiresAt).toBeUndefined();
  });

  it('walks a successful call through every state with a timestamped history', () => {
    let record = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;
    const steps = ['JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED'] as const;
    steps.forEach((to, i) => {
      record = transition(record, { to, workerId: 'w1', now: at(i + 1), ...(to === 'ENDED' ? { endedBy: 'remote' } : {}) });
    });

    expect(record.history.map((h) => h.state)).toEqual(['QUEUED', 'CLAIMED', ...steps]);
    expect(record.endedBy).toBe('remote');
    expect(record.timings?.endedAt).toBe(at(5).toISOString());
    expect(record.leaseExpiresAt).toBeUndefined();
  });

  it('refuses a transition the state machine does not allow', () => {
    const record = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;

    expect(() => transition(record, { to: 'CONNECTED', workerId: 'w1', now: at(1) })).toThrow(
      /cannot go from CLAIMED to CONNECTED/,
    );
  });

  it('refuses a change by a worker that does not own the call', () => {
    const record = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;

    expect(() => transition(record, { to: 'JOINING', workerId: 'w2', now: at(1) })).toThrow(/does not own/);
  });

  it('never leaves a final state', () => {
    const record = transition(claim(undefined, { request, workerId: 'w1', leaseMs: 1, now: t0 }).record, {
      to: 'FAILED',
      workerId: 'w1',
      now: at(1),
    });

    for (const to of ['QUEUED', 'CLAIMED', 'CONNECTED', 'ENDED'] as const) {
      expect(() => transition(record, { to, workerId: 'w1', now: at(2) })).toThrow(/cannot go from FAILED/);
    }
  });

  it('hands a call back to the queue after a retryable failure, without an owner, keeping the error', () => {
    const joining = transition(claim(undefined, { request, workerId: 'w1', leaseMs: 1, now: t0 }).record, {
      to: 'JOINING',
      workerId: 'w1',
      now: at(1),
    });
    const failure = { code: 'ROOM_UNREACHABLE', reason: 'no route', retryable: true, fault: 'remote' } as const;

    const queued = release(joining, 'w1', failure, at(2));
    const again = claim(queued, { request, workerId: 'w2', leaseMs: 1, now: at(3) });

    expect(queued.state).toBe('QUEUED');
    expect(queued.workerId).toBeUndefined();
    expect(queued.lastError).toEqual(failure);
    expect(again.outcome).toBe('claimed');
    expect(again.record.attempts).toBe(2);
  });

  it('records a hangup request once, and not on a finished call', () => {
    const record = claim(undefined, { request, workerId: 'w1', leaseMs: 1, now: t0 }).record;

    const asked = requestHangup(record, at(1));
    const askedAgain = requestHangup(asked, at(2));
    const ended = requestHangup(transition(record, { to: 'ENDED', workerId: 'w1', now: at(3) }), at(4));

    expect(asked.hangupRequestedAt).toBe(at(1).toISOString());
    expect(askedAgain).toBe(asked);
    expect(ended.hangupRequestedAt).toBeUndefined();
  });

  it('counts a held call as lost only once its lease ran out, and never a queued or finished one', () => {
    const held = claim(undefined, { request, workerId: 'w1', leaseMs: 1_000, now: t0 }).record;
    const ended = transition(held, { to: 'ENDED', workerId: 'w1', now: at(10), endedBy: 'caller' });

    expect(leaseExpired(held, at(999))).toBe(false);
    expect(leaseExpired(held, at(1_001))).toBe(true);
    expect(leaseExpired(ended, at(60_000))).toBe(false);
    expect(leaseExpired(newQueuedRecord(request, t0), at(60_000))).toBe(false);
  });

  it('says who found a lost call and how long after its lease ran out', () => {
    const held = claim(undefined, { request, workerId: 'w1', leaseMs: 1_000, now: t0 }).record;

    const lost = markLost(held, at(3_500), 'sweeper');

    expect(lost.failure?.reason).toBe(
      'worker w1 stopped renewing its lease while the call was CLAIMED (found by the sweeper, 2500 ms after the lease ran out)',
    );
    expect(lost.history.at(-1)).toMatchObject({ state: 'FAILED' });
    expect(lost.timings?.endedAt).toBe(at(3_500).toISOString());
  });

  it('ends a call no worker took at once when a hangup is requested: ENDED by the caller, nothing to dial', () => {
    const queued = newQueuedRecord(request, t0);

    const ended = requestHangup(queued, at(5));

    expect(ended).toMatchObject({ state: 'ENDED', endedBy: 'caller', hangupRequestedAt: at(5).toISOString() });
    expect(ended.history.map((h) => h.state)).toEqual(['QUEUED', 'ENDED']);
    expect(claim(ended, { request, workerId: 'w1', leaseMs: 1_000, now: at(6) }).outcome).toBe('duplicate');
  });

  it('cancels instead of claiming a call handed back to the queue after a hangup was requested', () => {
    const held = claim(undefined, { request, workerId: 'w1', leaseMs: 1_000, now: t0 }).record;
    const asked = requestHangup(held, at(1));
    const failure = { code: 'JANUS_UNAVAILABLE', reason: 'gone', retryable: true, fault: 'us' } as const;
    const queued = release(asked, 'w1', failure, at(2));

    const outcome = claim(queued, { request, workerId: 'w2', leaseMs: 1_000, now: at(3) });

    expect(outcome.outcome).toBe('cancelled');
    expect(outcome.record).toMatchObject({ state: 'ENDED', endedBy: 'caller', attempts: 1 });
    expect(outcome.record.workerId).toBeUndefined();
  });

  it('records an invalid request as FAILED INVALID_REQUEST at once, with the reason', () => {
    const record = invalidRequestRecord('msg-1', 'to: must be a sip: or sips: URI', at(10), t0);

    expect(record.state).toBe('FAILED');
    expect(record.failure).toEqual({
      code: 'INVALID_REQUEST',
      reason: 'to: must be a sip: or sips: URI',
      retryable: false,
      fault: 'caller',
    });
    expect(record.history.map((h) => h.state)).toEqual(['QUEUED', 'FAILED']);
  });
});
