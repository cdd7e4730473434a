import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoomlineClient } from '../../worker/client.js';
import { loadWorkerConfig } from '../../worker/config.js';
import { createLogger } from '../../worker/logger.js';
import { Worker } from '../../worker/worker.js';
import { startEmulators, type EmulatorFixture } from '../support/emulators.js';

/**
 * A cold worker (ROOMLINE_PREWARM=false) whose browser cannot start, on the SQS and DynamoDB emulators: it claims the
 * call first and warms up after, so a warm-up failure is a retryable failure of the call like any other, and at the
 * last receive the record says FAILED (not QUEUED forever while the message sits in the dead-letter queue).
 */
let fixture: EmulatorFixture;
let saved: NodeJS.ProcessEnv;
beforeEach(async () => {
  fixture = await startEmulators({ maxReceives: 2 });
  saved = { ...process.env };
  // the worker builds its SDK clients from the environment, as in a task
  Object.assign(process.env, fixture.emulators.env());
});
afterEach(async () => {
  process.env = saved;
  await fixture.stop();
});

describe('a cold worker whose browser cannot start', () => {
  it('hands the call back after claiming it, and at the last receive records it FAILED and leaves the message for the DLQ', async () => {
    const client = new RoomlineClient({
      queueUrl: fixture.emulators.queueUrl,
      tableName: fixture.emulators.tableName,
      sqs: fixture.sqs,
      dynamodb: fixture.emulators.dynamodbClient(),
    });
    const callId = await client.enqueueDial({
      version: 1,
      to: 'sip:alice@127.0.0.1:5090',
      room: { provider: 'janus', serverUrl: 'ws://127.0.0.1:9/', roomId: 1 },
    });
    const config = (n: number) =>
      loadWorkerConfig({
        ...process.env,
        ROOMLINE_JANUS_URLS: 'ws://127.0.0.1:9/',
        ROOMLINE_PREWARM: 'false',
        ROOMLINE_CHROMIUM_PATH: '/nonexistent/chromium',
        // the room and the phone on loopback, which the default allow-lists refuse
        ROOMLINE_ROOM_HOSTS: '127.0.0.1',
        ROOMLINE_SIP_HOSTS: '127.0.0.1',
        ROOMLINE_MAX_RECEIVES: '2',
        ROOMLINE_POLL_WAIT_S: '1',
        ROOMLINE_IDLE_EXIT_S: '3',
        ROOMLINE_SWEEP_INTERVAL_S: '0',
        ROOMLINE_WORKER_ID: `cold-${n}`,
      });
    const logger = createLogger({ level: 'silent' });

    // two cold workers, one after the other (each exits after its attempt), then one that finds nothing left
    const codes = [];
    for (let n = 1; n <= 3; n++) codes.push(await new Worker(config(n), logger).run());

    const record = await client.getCall(callId);
    expect(codes).toEqual([0, 0, 0]);
    expect(record?.state).toBe('FAILED');
    expect(record?.failure).toMatchObject({ code: 'BROWSER_FAILED', fault: 'us', retryable: false });
    expect(record?.history.map((h) => h.state)).toEqual(['QUEUED', 'CLAIMED', 'QUEUED', 'CLAIMED', 'FAILED']);
    expect(await fixture.deadLetters()).toHaveLength(1);
  });
});
