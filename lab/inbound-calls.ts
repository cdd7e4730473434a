import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CallRecord } from '../contracts/call-record.js';
import type { Emulators } from './emulators.js';
import { waitUntil } from './wait.js';

/**
 * The inbound calls' records (dial-in), oldest first: read from the emulated calls table, as an operator's query
 * would (a test's view; the workers never scan).
 */
export async function inboundCalls(emulators: Emulators): Promise<CallRecord[]> {
  const doc = DynamoDBDocumentClient.from(emulators.dynamodbClient());
  try {
    const records: CallRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new ScanCommand({
          TableName: emulators.tableName,
          FilterExpression: '#d = :inbound',
          ExpressionAttributeNames: { '#d': 'direction' },
          ExpressionAttributeValues: { ':inbound': 'inbound' },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) records.push(item as CallRecord);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  } finally {
    doc.destroy();
  }
}

/** Waits for the first inbound call record created at or after `since` (epoch ms) that satisfies `done`. */
export async function waitInboundCall(
  emulators: Emulators,
  since: number,
  done: (record: CallRecord) => boolean,
  timeoutMs: number,
): Promise<CallRecord> {
  let found: CallRecord | undefined;
  await waitUntil(
    async () => {
      found = (await inboundCalls(emulators)).find((r) => Date.parse(r.createdAt) >= since - 1_000 && done(r));
      return found !== undefined;
    },
    { timeoutMs, what: 'an inbound call record', intervalMs: 200 },
  );
  return found!;
}
