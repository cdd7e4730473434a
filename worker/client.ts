import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseCallControl, type CallControl } from '../contracts/call-control.js';
import { isFinalState, type CallControlRequest, type CallRecord } from '../contracts/call-record.js';
import { parseDialRequest } from '../contracts/dial-request.js';
import type { EgressPolicy } from '../contracts/egress-policy.js';
import { RoomlineError } from '../contracts/errors.js';
import { newQueuedRecord, requestControl, requestHangup as markHangupRequested } from './call-state.js';
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
  /**
   * The workers' allow-lists, to refuse before sending what a worker would refuse (contracts/egress-policy.ts).
   * @default from ROOMLINE_ROOM_HOSTS / ROOMLINE_SIP_HOSTS when the client reads its configuration from the
   * environment and they are set; else none: the worker decides
   */
  readonly egress?: EgressPolicy;
}

export class RoomlineClient {
  private readonly queue: DialQueue;
  private readonly store: CallStore;
  private readonly egress: EgressPolicy | undefined;

  constructor(options: ClientOptions = {}) {
    const fromEnv =
      options.queueUrl === undefined || options.tableName === undefined ? loadClientConfig() : undefined;
    this.egress = options.egress ?? fromEnv?.egress;
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
   * Validates a dial request (and where it would connect, given the allow-lists), gives it a callId if it has none,
   * records it QUEUED and puts it on the dial queue.
   * Returns the callId. The callId is the idempotency key: one call per callId however often it is enqueued. A callId
   * whose call a worker took, or that is over, sends nothing again; one still QUEUED that no worker ever took is sent
   * again (its first sender may have died between recording and sending it; should both messages exist, the second
   * delivery finds the call taken and is dropped).
   */
  async enqueueDial(input: unknown): Promise<string> {
    const parsed = parseDialRequest(input, this.egress);
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

  /**
   * Asks the worker of a connected call to carry out a control request (DTMF, hold, resume, transfer). The request
   * goes into the call record; the worker takes it within about a second, carries it out in order with the others,
   * and acknowledges it there (see `waitForControl`). Returns the request's id. Throws `INVALID_REQUEST` for a bad
   * request, an unknown call, a call that is not connected, or too many requests pending.
   */
  async control(callId: string, control: CallControl): Promise<string> {
    const parsed = parseCallControl(control);
    const id = randomUUID();
    await this.store.update(callId, (current) => {
      if (current === undefined) throw new RoomlineError('INVALID_REQUEST', `no call with callId ${callId}`);
      return requestControl(current, parsed, id, new Date());
    });
    return id;
  }

  /** Sends DTMF digits ("," pauses 2 s) to the SIP peer: RFC 2833 or SIP INFO, by default as the call sends them. */
  sendDtmf(callId: string, digits: string, options: { carriage?: 'rfc2833' | 'info' } = {}): Promise<string> {
    return this.control(callId, { type: 'dtmf', digits, ...(options.carriage === undefined ? {} : { carriage: options.carriage }) });
  }

  /** Puts the SIP leg on hold (the room goes on; neither side hears the other). */
  hold(callId: string): Promise<string> {
    return this.control(callId, { type: 'hold' });
  }

  /** Takes the SIP leg off hold. */
  resume(callId: string): Promise<string> {
    return this.control(callId, { type: 'resume' });
  }

  /** Asks the SIP peer to call `to` instead (a blind transfer, REFER); once it did, the bridge leaves the call. */
  transfer(callId: string, to: string): Promise<string> {
    return this.control(callId, { type: 'transfer', to });
  }

  /**
   * Resolves with a control request once the worker acknowledged it (`done` or `failed`); throws if the call ended
   * first or `timeoutMs` passed.
   */
  async waitForControl(callId: string, id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<CallControlRequest> {
    const settled = (r: CallRecord) => {
      const request = r.controls?.find((c) => c.id === id);
      return (request !== undefined && request.status !== 'pending') || isFinalState(r.state);
    };
    const record = await this.waitForCall(callId, settled, options);
    const request = record.controls?.find((c) => c.id === id);
    if (request === undefined || request.status === 'pending') {
      throw new RoomlineError('INVALID_REQUEST', `call ${callId} ended (${record.state}) before the control request was carried out`);
    }
    return request;
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

/** {@link RoomlineClient.sendDtmf} with a client configured from `options` or the environment. */
export function sendDtmf(callId: string, digits: string, options?: ClientOptions & { carriage?: 'rfc2833' | 'info' }): Promise<string> {
  const { carriage, ...client } = options ?? {};
  return clientFor(options === undefined ? undefined : client).sendDtmf(callId, digits, carriage === undefined ? {} : { carriage });
}

/** {@link RoomlineClient.hold} with a client configured from `options` or the environment. */
export function hold(callId: string, options?: ClientOptions): Promise<string> {
  return clientFor(options).hold(callId);
}

/** {@link RoomlineClient.resume} with a client configured from `options` or the environment. */
export function resume(callId: string, options?: ClientOptions): Promise<string> {
  return clientFor(options).resume(callId);
}

/** {@link RoomlineClient.transfer} with a client configured from `options` or the environment. */
export function transfer(callId: string, to: string, options?: ClientOptions): Promise<string> {
  return clientFor(options).transfer(callId, to);
}

/** {@link RoomlineClient.requestHangup} with a client configured from `options` or the environment. */
export function requestHangup(callId: string, options?: ClientOptions): Promise<CallRecord> {
  return clientFor(options).requestHangup(callId);
}
