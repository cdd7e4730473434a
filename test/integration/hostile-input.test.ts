import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { egressPolicy } from '../../contracts/egress-policy.js';
import { RoomlineError } from '../../contracts/errors.js';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { newQueuedRecord } from '../../worker/call-state.js';
import { RoomlineClient } from '../../worker/client.js';
import { refusedDestinations } from '../../worker/egress.js';
import { createLogger } from '../../worker/logger.js';
import { handleDialMessage } from '../../worker/message-handler.js';
import { startEmulators, type EmulatorFixture } from '../support/emulators.js';
import { LAB_ROOM_HOSTS, LAB_SIP_HOSTS, hostileCorpus, issueCrashBody, queueCarries, type HostileCase } from '../support/hostile-requests.js';

/**
 * The hostile corpus (100 cases of each of its 10 kinds) at the two edges that run on the emulators: the client
 * library refuses every case before sending or recording anything; the worker's message handling records every case
 * FAILED INVALID_REQUEST (under its callId when one can be salvaged), deletes the message, and never dials.
 */
const policy = egressPolicy(LAB_ROOM_HOSTS, LAB_SIP_HOSTS);
const corpus = hostileCorpus(100);

let fixture: EmulatorFixture;
beforeAll(async () => {
  fixture = await startEmulators();
});
afterAll(async () => {
  await fixture.stop();
});

async function tableSize(): Promise<number> {
  const { Count } = await fixture.emulators.dynamodbClient().send(new ScanCommand({ TableName: fixture.emulators.tableName, Select: 'COUNT' }));
  return Count ?? 0;
}

/** What a caller of the client would hand it: the parsed body, or the text itself when it is not JSON. */
function asClientInput(c: HostileCase): unknown {
  try {
    return JSON.parse(c.body);
  } catch {
    return c.body;
  }
}

describe('hostile dial requests on the emulators', () => {
  it('are all refused by the client with INVALID_REQUEST and path: message, and nothing is sent or recorded', async () => {
    // Prepare
    const client = new RoomlineClient({
      queueUrl: fixture.emulators.queueUrl,
      tableName: fixture.emulators.tableName,
      sqs: fixture.sqs,
      dynamodb: fixture.emulators.dynamodbClient(),
      egress: policy,
    });
    const accepted: string[] = [];
    const unnamed: string[] = [];

    // Act
    for (const c of corpus) {
      const error = await client.enqueueDial(asClientInput(c)).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!(error instanceof RoomlineError) || error.code !== 'INVALID_REQUEST') {
        accepted.push(`${c.kind}: ${c.label}`);
        continue;
      }
      const path = c.expectPath === 'json' ? '(request)' : c.expectPath;
      if (!error.message.startsWith(`invalid dial request: ${path}`) && !error.message.includes(`; ${path}`)) unnamed.push(`${c.label} → ${error.message.slice(0, 160)}`);
    }

    // Assess
    expect(corpus).toHaveLength(1_000);
    expect(accepted).toEqual([]);
    expect(unnamed).toEqual([]);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(0);
    expect(await tableSize()).toBe(0);
  }, 120_000);

  it('are each recorded FAILED INVALID_REQUEST and deleted by the worker\'s message handling, which never dials', async () => {
    // Prepare
    const cases = [...corpus, { kind: 'unknown-field', label: 'the issue crash body', body: issueCrashBody('crash-3'), expectPath: '(request)', callId: 'crash-3', needsPolicy: false } as const];
    const logger = createLogger({ level: 'silent' });
    const dialed: string[] = [];
    const handledIds: string[] = [];
    const wrong: string[] = [];
    let refusedByQueue = 0;

    // Act
    for (const c of cases) {
      if (!queueCarries(c.body)) {
        // SQS refuses the body itself (empty, or characters it does not carry): nothing reaches a worker
        const sent = await fixture.sqs.send(new SendMessageCommand({ QueueUrl: fixture.emulators.queueUrl, MessageBody: c.body })).then(() => true, () => false);
        if (sent) wrong.push(`${c.label}: SQS took a body it should refuse`);
        refusedByQueue += 1;
        continue;
      }
      const { MessageId } = await fixture.sqs.send(new SendMessageCommand({ QueueUrl: fixture.emulators.queueUrl, MessageBody: c.body }));
      const message = await fixture.queue.receiveOne({ waitS: 1, visibilityS: 30 });
      if (message === undefined) throw new Error('no message');
      const handled = await handleDialMessage(message, {
        queue: fixture.queue,
        store: fixture.store,
        logger,
        workerId: 'hostile-worker',
        leaseMs: 20_000,
        visibilityTimeoutS: 30,
        maxReceives: 3,
        refuse: (request) => refusedDestinations(request, policy),
        runCall: async (request) => {
          dialed.push(request.callId);
          throw new Error('must not dial');
        },
      });
      const expectedId = c.callId ?? `msg-${MessageId}`;
      if (handled.kind !== 'skipped' || handled.reason !== 'invalid' || handled.callId !== expectedId) wrong.push(`${c.label}: ${JSON.stringify(handled)}`);
      handledIds.push(expectedId);
    }

    // Assess
    expect(dialed).toEqual([]);
    expect(wrong).toEqual([]);
    expect(refusedByQueue).toBeLessThan(cases.length / 50);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(0);
    expect(await fixture.deadLetters()).toEqual([]);
    const sample = await Promise.all(handledIds.filter((_, i) => i % 25 === 0 || i === handledIds.length - 1).map((id) => fixture.store.get(id)));
    for (const record of sample) {
      expect(record).toMatchObject({ state: 'FAILED', failure: { code: 'INVALID_REQUEST', fault: 'caller', retryable: false } });
      expect(JSON.stringify(record).length).toBeLessThan(16 * 1024);
    }
    expect((await fixture.store.get('crash-3'))?.failure?.reason).toBe('(request): too many fields: 22009');
  }, 180_000);

  it('fails the client\'s QUEUED record when the worker refuses the destination, and a broken body naming a queued call leaves it alone', async () => {
    // Prepare: a client that allows loopback, a worker that does not; a queued call whose message is not yet out
    const looseClient = new RoomlineClient({
      queueUrl: fixture.emulators.queueUrl,
      tableName: fixture.emulators.tableName,
      sqs: fixture.sqs,
      dynamodb: fixture.emulators.dynamodbClient(),
      egress: egressPolicy('127.0.0.1', '127.0.0.1'),
    });
    const loopbackCall = { version: 1, to: 'sip:alice@127.0.0.1:5090', room: { provider: 'janus', serverUrl: 'ws://127.0.0.1:8188/', roomId: 1 } } as const;
    const refusedId = await looseClient.enqueueDial({ ...loopbackCall, callId: 'refused-by-worker' });
    const bystanderId = 'queued-bystander';
    await fixture.store.create(newQueuedRecord({ ...parseDialRequest({ ...loopbackCall, callId: bystanderId }), callId: bystanderId }, new Date()));
    await fixture.sqs.send(
      new SendMessageCommand({ QueueUrl: fixture.emulators.queueUrl, MessageBody: JSON.stringify({ version: 1, callId: bystanderId, to: 42 }) }),
    );
    const strict = egressPolicy(LAB_ROOM_HOSTS, LAB_SIP_HOSTS);
    const handled: string[] = [];

    // Act: the worker handles both messages
    for (let i = 0; i < 2; i++) {
      const message = await fixture.queue.receiveOne({ waitS: 1, visibilityS: 30 });
      if (message === undefined) throw new Error('no message');
      const outcome = await handleDialMessage(message, {
        queue: fixture.queue,
        store: fixture.store,
        logger: createLogger({ level: 'silent' }),
        workerId: 'strict-worker',
        leaseMs: 20_000,
        visibilityTimeoutS: 30,
        maxReceives: 3,
        refuse: (request) => refusedDestinations(request, strict),
        runCall: async () => {
          throw new Error('must not dial');
        },
      });
      if (outcome.kind === 'skipped') handled.push(`${outcome.callId} ${outcome.reason}`);
    }

    // Assess
    expect(handled.sort()).toEqual([`${bystanderId} invalid`, `${refusedId} invalid`]);
    expect(await fixture.count(fixture.emulators.queueUrl)).toBe(0);
    const refused = await looseClient.getCall(refusedId);
    expect(refused).toMatchObject({ state: 'FAILED', failure: { code: 'INVALID_REQUEST', fault: 'caller', retryable: false } });
    expect(refused?.failure?.reason).toContain('127.0.0.1 is a loopback address');
    expect(refused?.history.map((h) => h.state)).toEqual(['QUEUED', 'FAILED']);
    const bystander = await looseClient.getCall(bystanderId);
    expect(bystander?.state).toBe('QUEUED');
    expect(bystander?.history.map((h) => h.state)).toEqual(['QUEUED']);
  });
});
