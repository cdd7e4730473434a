/**
 * The calls table's shape, shared by the call store, the lab (which creates the table on the emulator) and the CDK
 * construct (which creates it in AWS). One record per call, keyed by callId.
 */
export const CALLS_TABLE = {
  /** Partition key (string): the callId. */
  partitionKey: 'callId',
  /** Sparse index of calls not yet final: only records carrying `activeKey` appear in it. */
  activeIndexName: 'active-calls',
  /** Present (value `ACTIVE`) while a call is not final, removed when it ends. */
  activeIndexPartitionKey: 'activeKey',
  /** Sort key of the active index: the record's creation time (ISO 8601). */
  activeIndexSortKey: 'createdAt',
  /** Epoch seconds after which DynamoDB may delete a finished call's record. */
  ttlAttribute: 'expiresAt',
} as const;

export const ACTIVE_KEY_VALUE = 'ACTIVE';
