import { describe, expect, it } from 'vitest';
import { parseCallControl } from '../../contracts/call-control.js';
import { MAX_CONTROL_REQUESTS, MAX_HISTORY_EVENTS, stateChanges, type CallRecord } from '../../contracts/call-record.js';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { RoomlineError } from '../../contracts/errors.js';
import {
  acknowledgeControl,
  claim,
  newQueuedRecord,
  pendingControls,
  recordEvent,
  requestControl,
  storedRequest,
  transition,
} from '../../worker/call-state.js';

const request = {
  ...parseDialRequest({
    version: 1,
    to: 'sip:alice@example.com',
    room: { provider: 'janus', serverUrl: 'ws://janus.example.com', roomId: 1, pin: '9999' },
    sip: { dtmfAfterAnswer: ',,4321#' },
  }),
  callId: 'call-1',
};
const t0 = new Date('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

/** A call of worker w1 that reached CONNECTED. */
function connected(): CallRecord {
  let record = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;
  for (const [i, to] of (['JOINING', 'DIALING', 'RINGING', 'CONNECTED'] as const).entries()) {
    record = transition(record, { to, workerId: 'w1', now: at(i + 1) });
  }
  return record;
}

describe('call states of a telephone call', () => {
  it('goes ON_HOLD and back to CONNECTED any number of times, with who held it in the history', () => {
    let record = connected();

    record = transition(record, { to: 'ON_HOLD', workerId: 'w1', now: at(10), event: { type: 'hold', by: 'remote' } });
    record = transition(record, { to: 'CONNECTED', workerId: 'w1', now: at(11), event: { type: 'resume', by: 'remote' } });
    record = transition(record, { to: 'ON_HOLD', workerId: 'w1', now: at(12), event: { type: 'hold', by: 'local' } });
    record = transition(record, { to: 'ENDED', workerId: 'w1', now: at(13), endedBy: 'caller' });

    expect(record.history.map((h) => h.state).slice(-5)).toEqual(['CONNECTED', 'ON_HOLD', 'CONNECTED', 'ON_HOLD', 'ENDED']);
    expect(record.history.flatMap((h) => (h.event === undefined ? [] : [h.event]))).toEqual([
      { type: 'hold', by: 'remote' },
      { type: 'resume', by: 'remote' },
      { type: 'hold', by: 'local' },
    ]);
  });

  it('refuses ON_HOLD for a call that is not connected', () => {
    const record = claim(undefined, { request, workerId: 'w1', leaseMs: 20_000, now: t0 }).record;
    const ringing = transition(transition(transition(record, { to: 'JOINING', workerId: 'w1', now: at(1) }), { to: 'DIALING', workerId: 'w1', now: at(2) }), {
      to: 'RINGING',
      workerId: 'w1',
      now: at(3),
    });

    expect(() => transition(ringing, { to: 'ON_HOLD', workerId: 'w1', now: at(4) })).toThrow(/cannot go from RINGING to ON_HOLD/);
  });

  it('records events that change no state as history entries keeping the state, which stateChanges leaves out', () => {
    const record = recordEvent(connected(), {
      event: { type: 'dtmf-received', digit: '5', carriage: 'info' },
      detail: 'DTMF 5 (info)',
      workerId: 'w1',
      now: at(20),
    });

    expect(record.history.at(-1)).toEqual({
      state: 'CONNECTED',
      at: at(20).toISOString(),
      detail: 'DTMF 5 (info)',
      event: { type: 'dtmf-received', digit: '5', carriage: 'info' },
    });
    expect(stateChanges(record.history).map((h) => h.state)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED']);
  });

  it('keeps at most MAX_HISTORY_EVENTS events and none after the end', () => {
    let record = connected();
    for (let i = 0; i < MAX_HISTORY_EVENTS + 5; i++) {
      record = recordEvent(record, { event: { type: 'dtmf-received', digit: '1', carriage: 'audio' }, workerId: 'w1', now: at(100 + i) });
    }
    const ended = transition(record, { to: 'ENDED', workerId: 'w1', now: at(10_000), endedBy: 'remote' });

    expect(record.history.filter((h) => h.event !== undefined)).toHaveLength(MAX_HISTORY_EVENTS);
    expect(recordEvent(ended, { event: { type: 'hold', by: 'remote' }, workerId: 'w1', now: at(10_001) })).toBe(ended);
    expect(() => recordEvent(record, { event: { type: 'hold', by: 'remote' }, workerId: 'w2', now: at(1) })).toThrow(/does not own/);
  });

  it('keeps the digits to dial after answer out of the stored request, like the room pin', () => {
    const record = newQueuedRecord(request, t0);

    expect(storedRequest(request).sip.dtmfAfterAnswer).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain('4321');
    expect(JSON.stringify(record)).not.toContain('9999');
  });
});

describe('control requests through the call record', () => {
  it('queues a request for a connected call and marks it done once carried out, clearing DTMF digits', () => {
    const asked = requestControl(connected(), parseCallControl({ type: 'dtmf', digits: '1234#' }), 'c-1', at(30));

    const done = acknowledgeControl(asked, 'c-1', { ok: true }, at(31));

    expect(pendingControls(asked)).toEqual([{ id: 'c-1', requestedAt: at(30).toISOString(), control: { type: 'dtmf', digits: '1234#' }, status: 'pending' }]);
    expect(done.controls).toEqual([
      { id: 'c-1', requestedAt: at(30).toISOString(), control: { type: 'dtmf', digits: '' }, status: 'done', doneAt: at(31).toISOString() },
    ]);
    expect(pendingControls(done)).toEqual([]);
    expect(done.revision).toBe(asked.revision + 1);
  });

  it('records why a control failed', () => {
    const asked = requestControl(connected(), { type: 'transfer', to: 'sip:desk@example.com' }, 'c-1', at(30));

    const failed = acknowledgeControl(asked, 'c-1', { ok: false, error: 'transfer needs an answered call' }, at(31));

    expect(failed.controls?.[0]).toMatchObject({ status: 'failed', error: 'transfer needs an answered call' });
  });

  it('adds a request with a known id only once', () => {
    const once = requestControl(connected(), { type: 'hold' }, 'c-1', at(30));

    expect(requestControl(once, { type: 'hold' }, 'c-1', at(31))).toBe(once);
  });

  it('refuses controls for a call that is not connected, or that is being hung up, with INVALID_REQUEST', () => {
    const queued = newQueuedRecord(request, t0);
    const hangingUp = { ...connected(), hangupRequestedAt: at(40).toISOString() };

    expect(() => requestControl(queued, { type: 'hold' }, 'c-1', at(1))).toThrow(/is QUEUED: hold needs a connected call/);
    expect(() => requestControl(hangingUp, { type: 'resume' }, 'c-1', at(41))).toThrow(/is being hung up/);
    try {
      requestControl(queued, { type: 'hold' }, 'c-1', at(1));
    } catch (error) {
      expect((error as RoomlineError).code).toBe('INVALID_REQUEST');
    }
  });

  it('allows controls on a held call', () => {
    const held = transition(connected(), { to: 'ON_HOLD', workerId: 'w1', now: at(10) });

    expect(pendingControls(requestControl(held, { type: 'resume' }, 'c-1', at(11)))).toHaveLength(1);
  });

  it('bounds the list: acknowledged requests make room, pending ones do not', () => {
    let record = connected();
    for (let i = 0; i < MAX_CONTROL_REQUESTS; i++) record = requestControl(record, { type: 'hold' }, `c-${i}`, at(100 + i));

    expect(() => requestControl(record, { type: 'hold' }, 'one-more', at(200))).toThrow(/pending/);
    record = acknowledgeControl(record, 'c-0', { ok: true }, at(201));
    record = requestControl(record, { type: 'resume' }, 'one-more', at(202));

    expect(record.controls).toHaveLength(MAX_CONTROL_REQUESTS);
    expect(record.controls?.map((c) => c.id)).not.toContain('c-0');
    expect(record.controls?.at(-1)?.id).toBe('one-more');
  });

  it('validates control requests at the edge', () => {
    expect(() => parseCallControl({ type: 'dtmf', digits: '12x' })).toThrow(/digits: must be DTMF digits/);
    expect(() => parseCallControl({ type: 'dtmf', digits: ',,' })).toThrow(/at least one digit/);
    expect(() => parseCallControl({ type: 'transfer', to: 'tel:+123' })).toThrow(/to: must be a sip: or sips: URI/);
    expect(() => parseCallControl({ type: 'park' })).toThrow(/invalid control request/);
    expect(parseCallControl({ type: 'dtmf', digits: 'a1#', carriage: 'info' })).toEqual({ type: 'dtmf', digits: 'A1#', carriage: 'info' });
  });
});
