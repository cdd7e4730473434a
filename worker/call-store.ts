import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import { CALL_STATES, isFinalState, type CallRecord } from '../contracts/call-record.js';
import { RoomlineError } from '../contracts/errors.js';
import { ACTIVE_KEY_VALUE, CALLS_TABLE } from './calls-table.js';

/** What renewing a lease came to: renewed, or the call is no longer this worker's (taken over, or over). */
export type LeaseRenewal =
  | { readonly kind: 'renewed'; readonly leaseExpiresAt: number }
  | { readonly kind: 'lost'; readonly record: CallRecord | undefined };

/** States in which a worker holds a call (and its lease). */
const HELD_STATES = CALL_STATES.filter((state) => state !== 'QUEUED' && !isFinalState(state));

/**
 * An SDK client with bounded waits: `requestTimeoutMs` for a response (the socket's idle time), a second to connect,
 * and the SDK's standard retry (3 attempts with backoff). Without them a request to an endpoint that stopped answering
 * waits for the operating system's TCP timeout, minutes.
 */
export function boundedClientConfig(requestTimeoutMs: number): {
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
} {
  return { maxAttempts: 3, requestHandler: { connectionTimeout: Math.min(1_000, requestTimeoutMs), requestTimeout: requestTimeoutMs } };
}

/**
 * The calls table, and only DynamoDB: one record per callId, every write conditional on the revision read (optimistic
 * concurrency), so two writers never silently overwrite each other. What a change does is decided by the pure
 * functions in call-state.ts; this class reads, applies and writes, retrying when someone else wrote in between.
 */
export class CallStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly tableName: string,
    options: {
      client?: DynamoDBClient;
      region?: string;
      recordTtlDays?: number;
      /** Longest wait for one request of a client this store makes itself, in ms. @default 3000 */
      requestTimeoutMs?: number;
    } = {},
  ) {
    const client =
      options.client ??
      new DynamoDBClient({
        ...(options.region === undefined ? {} : { region: options.region }),
        ...boundedClientConfig(options.requestTimeoutMs ?? 3_000),
      });
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    });
    this.recordTtlS = (options.recordTtlDays ?? 30) * 86_400;
  }

  private readonly recordTtlS: number;

  /** Closes the client's connections. */
  destroy(): void {
    this.doc.destroy();
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [CALLS_TABLE.partitionKey]: callId }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : fromItem(Item);
  }

  /** Writes a new record; false if one with the same callId exists. */
  create(record: CallRecord): Promise<boolean> {
    return this.putIf(record, 'attribute_not_exists(#id)', { '#id': CALLS_TABLE.partitionKey });
  }

  /** Deletes a record (only used to undo a QUEUED record whose message could not be sent). */
  async remove(callId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [CALLS_TABLE.partitionKey]: callId } }));
  }

  /**
   * Reads the record, applies `change` and writes the result if nobody wrote in between; on a conflict, reads again
   * and re-applies. `change` may return the record unchanged (same revision) to write nothing, and may throw to stop.
   * For a missing record `change` receives `undefined`; what it returns is then created.
   */
  async update(
    callId: string,
    change: (current: CallRecord | undefined) => CallRecord,
    options: { known?: CallRecord; attempts?: number } = {},
  ): Promise<CallRecord> {
    let current = options.known ?? (await this.get(callId));
    for (let attempt = 0; attempt < (options.attempts ?? 8); attempt++) {
      const next = change(current);
      if (current !== undefined && next.revision === current.revision) return next;
      const written =
        current === undefined ? await this.create(next) : await this.replace(next, current.revision);
      if (written) return next;
      current = await this.get(callId);
    }
    throw new RoomlineError('INTERNAL', `call ${callId}: too many concurrent writes`, { retryable: true });
  }

  /**
   * Extends the lease of a call `workerId` holds, in one conditional write that does not depend on the revision (so it
   * never waits behind, or retries against, the call's other writes; it bumps the revision, so a writer holding an
   * older copy re-reads). `lost` when the call is not this worker's any more: over, or taken over (WORKER_LOST).
   */
  async renewLease(
    callId: string,
    workerId: string,
    leaseMs: number,
    options: { now?: Date; abortSignal?: AbortSignal } = {},
  ): Promise<LeaseRenewal> {
    const leaseExpiresAt = (options.now ?? new Date()).getTime() + leaseMs;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [CALLS_TABLE.partitionKey]: callId },
          UpdateExpression: 'SET #lease = :lease, #rev = #rev + :one',
          ConditionExpression: `#owner = :owner AND #state IN (${HELD_STATES.map((_, i) => `:s${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#lease': 'leaseExpiresAt', '#rev': 'revision', '#owner': 'workerId', '#state': 'state' },
          ExpressionAttributeValues: {
            ':lease': leaseExpiresAt,
            ':one': 1,
            ':owner': workerId,
            ...Object.fromEntries(HELD_STATES.map((state, i) => [`:s${i}`, state])),
          },
        }),
        options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal },
      );
      return { kind: 'renewed', leaseExpiresAt };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { kind: 'lost', record: await this.get(callId) };
      throw error;
    }
  }

  /** Every call that is not final, from the sparse `active-calls` index (eventually consistent: re-read before acting). */
  async activeCalls(): Promise<CallRecord[]> {
    const records: CallRecord[] = [];
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        IndexName: CALLS_TABLE.activeIndexName,
        KeyConditionExpression: '#active = :active',
        ExpressionAttributeNames: { '#active': CALLS_TABLE.activeIndexPartitionKey },
        ExpressionAttributeValues: { ':active': ACTIVE_KEY_VALUE },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) records.push(fromItem(item));
    return records;
  }

  private replace(record: CallRecord, expectedRevision: number): Promise<boolean> {
    return this.putIf(record, '#rev = :rev', { '#rev': 'revision' }, { ':rev': expectedRevision });
  }

  /** Writes the record if `condition` holds; false if it does not. */
  private async putIf(
    record: CallRecord,
    condition: string,
    names: Record<string, string>,
    values?: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(record),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The stored item: the record plus the active-index key (while not final) and the TTL (once final). */
  private toItem(record: CallRecord): Record<string, unknown> {
    const final = isFinalState(record.state);
    return {
      ...record,
      ...(final
        ? { [CALLS_TABLE.ttlAttribute]: Math.floor(Date.parse(record.updatedAt) / 1000) + this.recordTtlS }
        : { [CALLS_TABLE.activeIndexPartitionKey]: ACTIVE_KEY_VALUE }),
    };
  }
}

function fromItem(item: Record<string, unknown>): CallRecord {
  const {
    [CALLS_TABLE.activeIndexPartitionKey]: _active,
    [CALLS_TABLE.ttlAttribute]: _ttl,
    ...record
  } = item;
  return record as unknown as CallRecord;
}
