import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isFinalState, type CallRecord } from '../contracts/call-record.js';
import { parseDialRequest } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import { newQueuedRecord, requestHangup as markHangupRequested } from './call-state.js';
import { CallStore } from './call-store.js';
import { loadClientConfig } from './config.js';
import { DialQueue } from './dial-queue.js';

/**
 * The client library: what any service uses to start, watch and end calls. Configuration comes from the options,
 * else from the environment (ROOMLINE_QUEUE_URL, ROOMLINE_TABLE, AWS_REGION, AWS_ENDPOINT_URL_SQS/_DYNAMODB).
 */
export interface ClientOptions {
  readonly queueUrl?: string;
  readonly tableName?: string;
  readonly region?: string;
  /** Your own SDK clients (credentials, endpoints, retries). @default clients built from the environment */
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
}

export class RoomlineClient {
  private readonly queue: DialQueue;
  private readonly store: CallStore;

  constructor(options: ClientOptions = {}) {
    const fromEnv =
      options.queueUrl === undefined || options.tableName === undefined ? loadClientConfig() : undefined;
    const region = options.region ?? fromEnv?.region;
    this.queue = new DialQueue(options.queueUrl ?? fromEnv!.queueUrl, {
      ...(options.sqs === undefined ? {} : { client: options.sqs }),
      ...(region === undefined ? {} : { region }),
    });
    this.store = new CallStore(options.tableName ?? fromEnv!.tableName, {
      ...(options.dynamodb === undefined ? {} : { client: options.dynamodb }),
      ...(region === undefined ? {} : { region }),
    });
  }

  /**
   * Validates a dial request, gives it a callId if it has none, records it QUEUED and puts it on the dial queue.
   * Returns the callId. The callId is the idempotency key: one call per callId however often it is enqueued. A callId
   * whose call a worker took, or that is over, sends nothing again; one still QUEUED that no worker ever took is sent
   * again (its first sender may have died between recording and sending it; should both messages exist, the second
   * delivery finds the call taken and is dropped).
   */
  async enqueueDial(input: unknown): Promise<string> {
    const parsed = parseDialRequest(input);
    const request = { ...parsed, callId: parsed.callId ?? randomUUID() };
    const created = await this.store.create(newQueuedRecord(request, new Date()));
    if (!created) {
      const existing = await this.store.get(request.callId);
      if (existing?.state !== 'QUEUED' || existing.attempts > 0) return request.callId;
    }
    try {
      await this.queue.send(JSON.stringify(request));
    } catch (error) {
      if (created) await this.store.remove(request.callId).catch(() => undefined);
      throw new RoomlineError('INTERNAL', `could not put the dial request on the queue: ${String(error)}`, {
        retryable: true,
        cause: error,
      });
    }
    return request.callId;
  }

  getCall(callId: string): Promise<CallRecord | undefined> {
    return this.store.get(callId);
  }

  /**
   * Asks for the call to end (the worker hangs up within about a second: BYE when connected, CANCEL while ringing).
   * A call no worker has taken yet ends at once (ENDED by the caller) and is never dialed. Returns the record; asking
   * again, or for a finished call, changes nothing.
   */
  async requestHangup(callId: string): Promise<CallRecord> {
    return this.store.update(callId, (current) => {
      if (current === undefined) throw new RoomlineError('INVALID_REQUEST', `no call with callId ${callId}`);
      return markHangupRequested(current, new Date());
    });
  }

  /** Yields the record each time it changes, until it is final (or `signal` aborts). */
  async *watchCall(callId: string, options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<CallRecord> {
    let revision = -1;
    while (options.signal?.aborted !== true) {
      const record = await this.store.get(callId);
      if (record !== undefined && record.revision !== revision) {
        revision = record.revision;
        yield record;
        if (isFinalState(record.state)) return;
      }
      await sleep(options.intervalMs ?? 250, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(
        () => undefined,
      );
    }
  }

  /** Resolves with the record once `done(record)` holds, or throws after `timeoutMs`. */
  async waitForCall(
    callId: string,
    done: (record: CallRecord) => boolean,
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<CallRecord> {
    const signal = AbortSignal.timeout(options.timeoutMs ?? 60_000);
    let last: CallRecord | undefined;
    for await (const record of this.watchCall(callId, { signal, ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }) })) {
      last = record;
      if (done(record)) return record;
    }
    if (last !== undefined && done(last)) return last;
    throw new RoomlineError(
      'INTERNAL',
      `call ${callId} did not reach the awaited state within ${options.timeoutMs ?? 60_000} ms (last: ${last?.state ?? 'no record'})`,
    );
  }
}

let defaultClient: RoomlineClient | undefined;
function clientFor(options: ClientOptions | undefined): RoomlineClient {
  if (options !== undefined) return new RoomlineClient(options);
  defaultClient ??= new RoomlineClient();
  return defaultClient;
}

/** {@link RoomlineClient.enqueueDial} with a client configured from `options` or the environment. */
export function enqueueDial(request: unknown, options?: ClientOptions): Promise<string> {
  return clientFor(options).enqueueDial(request);
}

/** {@link RoomlineClient.getCall} with a client configured from `options` or the environment. */
export function getCall(callId: string, options?: ClientOptions): Promise<CallRecord | undefined> {
  return clientFor(options).getCall(callId);
}

/** {@link RoomlineClient.requestHangup} with a client configured from `options` or the environment. */
export function requestHangup(callId: string, options?: ClientOptions): Promise<CallRecord> {
  return clientFor(options).requestHangup(callId);
}
