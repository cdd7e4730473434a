import { describe, expect, it } from 'vitest';
import { handler, toCallEvents, type StreamRecord } from '../../infra/functions/call-events.js';

/** A calls-table image in DynamoDB JSON, as the stream carries it. */
function image(fields: { callId: string; state: string; updatedAt?: string; extra?: Record<string, unknown> }) {
  return {
    callId: { S: fields.callId },
    state: { S: fields.state },
    revision: { N: '3' },
    ...(fields.updatedAt === undefined ? {} : { updatedAt: { S: fields.updatedAt } }),
    ...fields.extra,
  };
}

describe('call events enrichment', () => {
  it('turns the first record of a call into an event without previous state', () => {
    // Prepare
    const records: StreamRecord[] = [
      { eventName: 'INSERT', dynamodb: { NewImage: image({ callId: 'c-1', state: 'QUEUED', updatedAt: '2026-01-01T00:00:00.000Z', extra: { to: { S: 'sip:alice@example.com' }, metadata: { M: { tenant: { S: 't-9' } } } } }) } },
    ];

    // Act
    const events = toCallEvents(records);

    // Assess
    expect(events).toEqual([
      { version: 1, callId: 'c-1', state: 'QUEUED', previousState: null, at: '2026-01-01T00:00:00.000Z', to: 'sip:alice@example.com', metadata: { tenant: 't-9' } },
    ]);
  });

  it('emits a state change with the worker, Janus node, attempts and last SIP code', () => {
    // Prepare
    const records: StreamRecord[] = [
      {
        eventName: 'MODIFY',
        dynamodb: {
          OldImage: image({ callId: 'c-1', state: 'DIALING' }),
          NewImage: image({
            callId: 'c-1',
            state: 'RINGING',
            updatedAt: '2026-01-01T00:00:02.000Z',
            extra: { workerId: { S: 'task-1' }, janusNode: { S: 'ws://10.0.1.5:8188' }, attempts: { N: '1' }, sip: { M: { lastCode: { N: '180' } } } },
          }),
        },
      },
    ];

    // Act
    const [event] = toCallEvents(records);

    // Assess
    expect(event).toMatchObject({ state: 'RINGING', previousState: 'DIALING', workerId: 'task-1', janusNode: 'ws://10.0.1.5:8188', attempts: 1, sipCode: 180 });
  });

  it('emits nothing for writes that keep the state (lease renewals, quality, hangup requests) and for deletions', () => {
    // Prepare
    const records: StreamRecord[] = [
      { eventName: 'MODIFY', dynamodb: { OldImage: image({ callId: 'c-1', state: 'CONNECTED' }), NewImage: image({ callId: 'c-1', state: 'CONNECTED' }) } },
      { eventName: 'REMOVE', dynamodb: { OldImage: image({ callId: 'c-1', state: 'ENDED' }) } },
    ];

    // Act
    const events = toCallEvents(records);

    // Assess
    expect(events).toEqual([]);
  });

  it('carries the failure code, fault, retryability and SIP code of a failed call', () => {
    // Prepare
    const failure = { M: { code: { S: 'SIP_BUSY' }, fault: { S: 'remote' }, retryable: { BOOL: false }, sipCode: { N: '486' }, reason: { S: 'Busy Here' } } };
    const records: StreamRecord[] = [
      { eventName: 'MODIFY', dynamodb: { OldImage: image({ callId: 'c-2', state: 'RINGING' }), NewImage: image({ callId: 'c-2', state: 'FAILED', extra: { failure } }) } },
    ];

    // Act
    const [event] = toCallEvents(records);

    // Assess
    expect(event?.failure).toEqual({ code: 'SIP_BUSY', fault: 'remote', retryable: false, sipCode: 486 });
    expect(event?.at).toBeNull();
  });

  it('skips records that are not call records, and keeps the order of the rest', async () => {
    // Prepare
    const records: StreamRecord[] = [
      { eventName: 'INSERT', dynamodb: { NewImage: { callId: { S: 'c-3' }, state: { S: 'NOT_A_STATE' } } } },
      { eventName: 'INSERT', dynamodb: {} },
      { eventName: 'INSERT', dynamodb: { NewImage: image({ callId: 'c-4', state: 'QUEUED' }) } },
      { eventName: 'MODIFY', dynamodb: { OldImage: image({ callId: 'c-4', state: 'QUEUED' }), NewImage: image({ callId: 'c-4', state: 'CLAIMED' }) } },
    ];

    // Act
    const events = await handler(records);

    // Assess
    expect(events.map((e) => `${e.callId}:${e.state}`)).toEqual(['c-4:QUEUED', 'c-4:CLAIMED']);
  });

  it('emits going on hold and back as state changes, and nothing for a digit that keeps the state', () => {
    // Prepare
    const records: StreamRecord[] = [
      { eventName: 'MODIFY', dynamodb: { OldImage: image({ callId: 'c-5', state: 'CONNECTED' }), NewImage: image({ callId: 'c-5', state: 'ON_HOLD' }) } },
      { eventName: 'MODIFY', dynamodb: { OldImage: image({ callId: 'c-5', state: 'ON_HOLD' }), NewImage: image({ callId: 'c-5', state: 'CONNECTED' }) } },
      { eventName: 'MODIFY', dynamodb: { OldImage: image({ callId: 'c-5', state: 'CONNECTED' }), NewImage: image({ callId: 'c-5', state: 'CONNECTED' }) } },
    ];

    // Act
    const events = toCallEvents(records);

    // Assess
    expect(events.map((e) => `${e.previousState}->${e.state}`)).toEqual(['CONNECTED->ON_HOLD', 'ON_HOLD->CONNECTED']);
  });
});
