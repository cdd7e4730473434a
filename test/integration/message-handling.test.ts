import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import { RoomlineError } from '../../contracts/errors.js';
import type { SessionOutcome } from '../../worker/call-ending.js';
import { transition } from '../../worker/call-state.js';
import { createLogger } from '../../worker/logger.js';
import { handleDialMessage, type MessageHandlerDeps } from '../../worker/message-handler.js';
import { startEmulators, type EmulatorFixture } from '../support/emulators.js';

/**
 * The worker's message handling against the SQS and DynamoDB emulators through the real AWS SDK. The call itself is
 * a scripted stand-in here (counting how often a call is placed, or failing); the end-to-end suite places real calls.
 */
const logger = createLogger({ level: 'silent' });

const dialRequest = (callId?: string) => ({
  version: 1,
  ...(callId === undefined ? {} : { callId }),
  to: 'sip:alice@127.0.0.1:5090',
  room: { provider: 'janus', serverUrl: 'ws://127.0.0.1:8188/', roomId: 1234 },
});

let fixture: EmulatorFixture;
beforeEach(async () => {
  fixture = await startEmulators({ maxReceives: 3 });
});
afterEach(async () => {
  await fixture.stop();
});

function deps(workerId: string, runCall: MessageHandlerDeps['runCall']): MessageHandlerDeps {
  return {
    queue: fixture.queue,
    store: fixture.store,
    logger,
    workerId,
    leaseMs: 20_000,
    visibilityTimeoutS: 30,
    maxReceives: 3,
    retryDelayS: () => 0,
    runCall,
  };
}

/** A call that connects and ends after `ms`, written through the store as a real session would. */
function endsAfter(ms: number, workerId: string, dialed: string[]): MessageHandlerDeps['runCall'] {
  return async (request, record) => {
    dialed.push(request.callId);
    let current = record;
    for (const to of ['JOINING', 'DIALING', 'CONNECTED'] as const) {
      current = await fixture.store.update(request.callId, (r) => transition(r ?? current, { to, workerId, now: new Date() }));
    }
    await sleep(ms);
    current = await fixture.store.update(request.callId, (r) =>
      transition(r ?? current, { to: 'ENDED', workerId, now: new Date(), endedBy: 'remote' }),
    );
    return { kind: 'final', record: current } satisfies SessionOutcome;
  };
}

async function sendRaw(body: string): Promise<void> {
  await fixture.sqs.send(new SendMessageCommand({ QueueUrl: fixture.emulators.queueUrl, MessageBody: body }));
}

async function receive() {
  const message = await fixture.queue.receiveOne({ waitS: 1, visibilityS: 30 });
  if (message === undefined) throw new Error('expected a message on the dial queue');
  return message;
}

describe('dial message handling on the emulators', () => {
  it('dials once when the same dial request is delivered three times to three workers at once', async () => {
    const body = JSON.stringify(dialRequest('same-call'));
    await sendRaw(body);
    await sendRaw(body);
    await sendRaw(body);
    const messages = [await receive(), await receive(), await receive()];
    const dialed: string[] = [];

    const results = await Promise.all(
      messages.map((message, i) => handleDialMessage(message, deps(`w${i}`, endsAfter(300, `w${i}`, dialed)))),
    );

    expect(dialed).toEqual(['same-call']);
    expect(results.filter((r) => r.kind === 'call')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'skipped' && r.reason === 'duplicate')).toHaveLength(2);
    const record = await fixture.store.get('same-call');
    expect(record?.state).toBe('ENDED');
    expect(record?.attempts).toBe(1);
    expect(record?.history.map((h) => h.state)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'CONNECTED', 'ENDED']);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(0);
  });

  it('does not dial again when a message is redelivered after its call ended', async () => {
    await sendRaw(JSON.stringify(dialRequest('done-call')));
    const dialed: string[] = [];
    await handleDialMessage(await receive(), deps('w1', endsAfter(0, 'w1', dialed)));
    await sendRaw(JSON.stringify(dialRequest('done-call')));

    const again = await handleDialMessage(await receive(), deps('w2', endsAfter(0, 'w2', dialed)));

    expect(again).toEqual({ kind: 'skipped', reason: 'duplicate', callId: 'done-call' });
    expect(dialed).toEqual(['done-call']);
  });

  it('records a request that fails validation as FAILED INVALID_REQUEST with the reason, deletes it, never dials', async () => {
    await sendRaw(JSON.stringify({ ...dialRequest('bad-one'), to: 'tel:+123' }));
    await sendRaw('this is not json');
    const dialed: string[] = [];

    const first = await handleDialMessage(await receive(), deps('w1', endsAfter(0, 'w1', dialed)));
    const second = await handleDialMessage(await receive(), deps('w1', endsAfter(0, 'w1', dialed)));

    expect(dialed).toEqual([]);
    expect(first).toEqual({ kind: 'skipped', reason: 'invalid', callId: 'bad-one' });
    const record = await fixture.store.get('bad-one');
    expect(record?.state).toBe('FAILED');
    expect(record?.failure?.code).toBe('INVALID_REQUEST');
    expect(record?.failure?.reason).toContain('to: must be a sip: or sips: URI');
    expect(second.kind === 'skipped' && second.callId.startsWith('msg-')).toBe(true);
    const unparsable = await fixture.store.get(second.kind === 'skipped' ? second.callId : '');
    expect(unparsable?.failure?.reason).toBe('the message body is not JSON');
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(0);
    expect(await fixture.deadLetters()).toEqual([]);
  });

  it('retries a call that fails for a retryable reason, then records it FAILED and parks the message in the DLQ', async () => {
    await sendRaw(JSON.stringify(dialRequest('poison')));
    const attempts: number[] = [];
    const failing: MessageHandlerDeps['runCall'] = async (_request, record) => {
      attempts.push(record.attempts);
      const joining = await fixture.store.update('poison', (r) =>
        transition(r ?? record, { to: 'JOINING', workerId: record.workerId!, now: new Date() }),
      );
      const failure = new RoomlineError('ROOM_UNREACHABLE', 'cannot reach the room server').toJSON();
      return { kind: 'retry', failure, record: joining };
    };

    // workers keep receiving until the queue has nothing left to give
    for (let i = 0; i < 6; i++) {
      const message = await fixture.queue.receiveOne({ waitS: 1, visibilityS: 30 });
      if (message === undefined) break;
      await handleDialMessage(message, deps(`w${i}`, failing));
    }

    expect(attempts).toEqual([1, 2, 3]);
    const record = await fixture.store.get('poison');
    expect(record?.state).toBe('FAILED');
    expect(record?.failure).toMatchObject({ code: 'ROOM_UNREACHABLE', retryable: false });
    expect(record?.history.map((h) => h.state)).toEqual([
      'QUEUED', 'CLAIMED', 'JOINING', 'QUEUED', 'CLAIMED', 'JOINING', 'QUEUED', 'CLAIMED', 'JOINING', 'FAILED',
    ]);
    expect(record?.history.at(-1)?.detail).toContain('after 3 attempts');
    expect(await fixture.deadLetters()).toHaveLength(1);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(0);
  });

  it('closes a call whose worker vanished as WORKER_LOST when its message comes back, without dialing', async () => {
    await sendRaw(JSON.stringify(dialRequest('orphan')));
    const first = await receive();
    // a worker claims the call with a short lease and dies without a word
    const vanished: MessageHandlerDeps['runCall'] = async (_request, record) => {
      await sleep(1);
      throw Object.assign(new Error('killed'), { record });
    };
    await handleDialMessage(first, { ...deps('w1', vanished), leaseMs: 50 }).catch(() => undefined);
    await fixture.queue.handBack(first, 0);
    await sleep(100);
    const dialed: string[] = [];

    const result = await handleDialMessage(await receive(), deps('w2', endsAfter(0, 'w2', dialed)));

    expect(result).toEqual({ kind: 'skipped', reason: 'abandoned', callId: 'orphan' });
    expect(dialed).toEqual([]);
    const record: CallRecord | undefined = await fixture.store.get('orphan');
    expect(record?.state).toBe('FAILED');
    expect(record?.failure?.code).toBe('WORKER_LOST');
  });
});
