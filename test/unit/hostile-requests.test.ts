import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeParseDialRequest } from '../../contracts/dial-request.js';
import { egressPolicy } from '../../contracts/egress-policy.js';
import { toCallEvents } from '../../infra/functions/call-events.js';
import { invalidRequestRecord, newQueuedRecord } from '../../worker/call-state.js';
import { HOSTILE_KINDS, LAB_ROOM_HOSTS, LAB_SIP_HOSTS, baseRequest, hostileCaseArbitrary, issueCrashBody, type HostileCase } from '../support/hostile-requests.js';

/**
 * The generated corpus of hostile dial requests against the validation every edge runs (the client, the CLI and the
 * worker call the same function), with the lab's allow-lists: every case refused, naming the field at fault, with a
 * bounded reason; and whatever the input, the record and the event a refusal produces stay far below DynamoDB's
 * 400 KB item and EventBridge's 256 KB event.
 */
const policy = egressPolicy(LAB_ROOM_HOSTS, LAB_SIP_HOSTS);
/** Sizes the records and events must stay under: a small fraction of the services' limits. */
const RECORD_BUDGET = 16 * 1024;
const EVENT_BUDGET = 8 * 1024;

function refuse(c: HostileCase): { reason: string; callId: string | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(c.body);
  } catch {
    return { reason: 'json: not JSON', callId: undefined };
  }
  const result = safeParseDialRequest(value, policy);
  if (result.ok) throw new Error(`accepted: ${c.kind} ${c.label}`);
  return result;
}

const itemBytes = (item: unknown) => Buffer.byteLength(JSON.stringify(item));
const eventsOf = (record: object) =>
  toCallEvents([{ eventName: 'INSERT', dynamodb: { NewImage: marshall(record, { removeUndefinedValues: true }) as never } }]);

describe('a generated corpus of hostile dial requests', () => {
  it('is refused case by case, each reason naming the field at fault, bounded and on one line', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(hostileCaseArbitrary(), (c) => {
        // Act
        const { reason, callId } = refuse(c);

        // Assess
        seen.set(c.kind, (seen.get(c.kind) ?? 0) + 1);
        const named = c.expectPath.endsWith('.')
          ? reason.startsWith(c.expectPath)
          : [':', '.'].some((end) => reason.startsWith(`${c.expectPath}${end}`) || reason.includes(`; ${c.expectPath}${end}`));
        expect(named, `${c.kind} / ${c.label}: "${reason.slice(0, 200)}" should name ${c.expectPath}`).toBe(true);
        expect(reason.length).toBeLessThanOrEqual(2_001);
        expect(reason).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029]/);
        expect(callId).toBe(c.callId);
      }),
      { numRuns: 1_200, seed: 20_261_201 },
    );
    expect([...seen.keys()].sort()).toEqual([...HOSTILE_KINDS].sort());
  }, 120_000);

  it('leaves the refusal\'s record and event far below the DynamoDB and EventBridge limits, whatever the input', () => {
    fc.assert(
      fc.property(hostileCaseArbitrary(), (c) => {
        // Act
        const { reason, callId } = refuse(c);
        const record = invalidRequestRecord(callId ?? 'msg-00000000-0000-0000-0000-000000000000', reason, new Date());
        const events = eventsOf(record);

        // Assess
        expect(itemBytes(record)).toBeLessThan(RECORD_BUDGET);
        expect(events).toHaveLength(1);
        expect(itemBytes(events[0])).toBeLessThan(EVENT_BUDGET);
      }),
      { numRuns: 300, seed: 99 },
    );
  }, 120_000);

  it('answers the issue\'s crash body (242 KB, 22,000 keys) with a record of under 1 KB', () => {
    // Prepare
    const body = issueCrashBody('crash-2');

    // Act
    const result = safeParseDialRequest(JSON.parse(body));
    const record = !result.ok ? invalidRequestRecord('crash-2', result.reason, new Date()) : undefined;

    // Assess
    expect(body.length).toBeGreaterThan(240_000);
    expect(record?.failure?.reason).toBe('(request): too many fields: 22009');
    expect(itemBytes(record)).toBeLessThan(1_024);
  });

  it('keeps even the largest valid request\'s record and event far below the limits', () => {
    // Prepare: every bounded field at its bound
    const longest = (n: number) => 'é'.repeat(n);
    const request = safeParseDialRequest({
      ...baseRequest('a'.repeat(128)),
      from: { uri: `sip:${'u'.repeat(120)}@${'h'.repeat(60)}.example.com`, displayName: longest(64) },
      headers: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`X-${String(i).padStart(64, 'h')}`, longest(256)])),
      metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${String(i).padStart(2, '0')}${longest(62)}`, longest(512)])),
      room: { ...(baseRequest('x')['room'] as object), display: longest(64) },
      media: { video: 'recvonly', splitIncoming: { tiles: Array.from({ length: 16 }, () => ({ x: 0, y: 0, width: 1, height: 1, name: longest(64) })) } },
    });
    if (!request.ok) throw new Error(request.reason);

    // Act
    const record = newQueuedRecord({ ...request.request, callId: request.request.callId! }, new Date());
    const events = eventsOf(record);

    // Assess
    expect(itemBytes(record)).toBeLessThan(64 * 1024);
    expect(itemBytes(events[0])).toBeLessThan(32 * 1024);
  });
});
