import { describe, expect, it } from 'vitest';
import {
  callerDisplay,
  pickRoute,
  routeInputSchema,
  routeKey,
  routeKeysFor,
  type InboundCall,
  type Route,
} from '../../contracts/dial-in.js';
import { inboundCallId, inboundClaimRecord, inboundRequest, routeNotFound, routedRecord } from '../../worker/inbound-call.js';

const call: InboundCall = {
  sipCallId: 'a84b4c76e66710@pc33.example.com',
  from: 'sip:+15550100@carrier.example.com',
  displayName: 'Ada Lovelace',
  to: 'sip:+15551230001@dial-in.example.com',
  headers: {},
};
const room = { provider: 'janus', serverUrl: 'wss://janus.example.com/', roomId: 1234, pin: 'secret-pin' } as const;
const route = (match: Route['match'], extra: Partial<Route> = {}): Route => ({
  ...routeInputSchema.parse({ match, room }),
  routeId: routeKey(match),
  createdAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});
const t0 = new Date('2026-01-01T10:00:00.000Z');

describe('route matching', () => {
  it('tries the X- headers a call carries before its dialled number', () => {
    const keys = routeKeysFor({ ...call, headers: { 'X-Room': 'sales' } });

    expect(keys).toEqual(['header:x-room:sales', 'number:+15551230001']);
  });

  it('picks a header route over a number route when the call matches both', () => {
    const byHeader = route({ kind: 'header', name: 'X-Room', value: 'sales' });
    const byNumber = route({ kind: 'number', number: '+15551230001' });
    const found = new Map([byNumber, byHeader].map((r) => [r.routeId, r]));

    const picked = pickRoute(routeKeysFor({ ...call, headers: { 'X-Room': 'sales' } }), found);

    expect(picked?.routeId).toBe('header:x-room:sales');
  });

  it('matches no number route when the dialled user is not a number', () => {
    const keys = routeKeysFor({ ...call, to: 'sip:reception@dial-in.example.com' });

    expect(keys).toEqual([]);
    expect(pickRoute(keys, new Map())).toBeUndefined();
  });

  it('ignores headers a route could never have (values with ":" or control characters)', () => {
    const keys = routeKeysFor({ ...call, headers: { 'X-Room': 'a:b', 'X-Bad': 'x\u0007' } });

    expect(keys).toEqual(['number:+15551230001']);
  });

  it('refuses a route whose number is not digits', () => {
    const parsed = routeInputSchema.safeParse({ match: { kind: 'number', number: '555-1234' }, room });

    expect(parsed.success).toBe(false);
  });
});

describe('the caller in the room', () => {
  it('masks all but the last four digits by default', () => {
    expect(callerDisplay(call, 'masked')).toBe('Phone ••••0100');
  });

  it('shows the display name when the route says so, else the number', () => {
    expect(callerDisplay(call, 'name')).toBe('Ada Lovelace');
    expect(callerDisplay({ from: call.from }, 'name')).toBe('Phone +15550100');
  });

  it('strips quotes and control characters from a display name', () => {
    expect(callerDisplay({ from: call.from, displayName: '"Eve\u0000"' }, 'name')).toBe('Eve');
  });
});

describe('claiming an inbound call', () => {
  it('makes the same callId from the same SIP Call-ID at every worker, and a valid one', () => {
    expect(inboundCallId(call.sipCallId)).toBe(inboundCallId(call.sipCallId));
    expect(inboundCallId(call.sipCallId)).not.toBe(inboundCallId(`${call.sipCallId}x`));
    expect(inboundCallId(call.sipCallId)).toMatch(/^in-[0-9a-f]{32}$/);
  });

  it('writes a CLAIMED inbound record owned by the claimer, with the caller and the dialled URI', () => {
    const record = inboundClaimRecord(call, { workerId: 'w1', leaseMs: 20_000, now: t0 });

    expect(record).toMatchObject({
      callId: inboundCallId(call.sipCallId),
      state: 'CLAIMED',
      direction: 'inbound',
      workerId: 'w1',
      caller: { uri: call.from, number: '+15550100', displayName: 'Ada Lovelace' },
      to: call.to,
      sip: { sipCallId: call.sipCallId },
      leaseExpiresAt: t0.getTime() + 20_000,
      attempts: 1,
    });
  });

  it('routes the claimed call into the route\'s room, named for the caller, without the room\'s secrets in the record', () => {
    const claimed = inboundClaimRecord(call, { workerId: 'w1', leaseMs: 20_000, now: t0 });
    const r = route({ kind: 'number', number: '+15551230001' }, { callerName: 'name' });

    const request = inboundRequest(call, r, claimed.callId);
    const record = routedRecord(claimed, request, r, t0);

    expect(request.room).toMatchObject({ provider: 'janus', roomId: 1234, pin: 'secret-pin', display: 'Ada Lovelace' });
    expect(record.routeId).toBe('number:+15551230001');
    expect(record.revision).toBe(claimed.revision + 1);
    expect(JSON.stringify(record)).not.toContain('secret-pin');
  });

  it('records a call no route takes as FAILED ROUTE_NOT_FOUND with SIP 404', () => {
    const claimed = inboundClaimRecord(call, { workerId: 'w1', leaseMs: 20_000, now: t0 });

    const failed = routeNotFound(claimed, 'w1', t0, ['number:+15551230001']);

    expect(failed.state).toBe('FAILED');
    expect(failed.failure).toMatchObject({ code: 'ROUTE_NOT_FOUND', sipCode: 404, fault: 'caller', retryable: false });
    expect(failed.leaseExpiresAt).toBeUndefined();
  });
});
