/**
 * Enrichment step of the call-events pipe (calls table stream → pipe → event bus). It receives a batch of DynamoDB
 * stream records and returns one event detail per call *state change*: writes that keep the state (lease renewals,
 * quality updates, hangup requests) produce no event. The pipe puts each returned detail on the bus as an event with
 * source `roomline` and detail-type `Roomline Call State Changed`.
 */
import type { CallState, EndedBy } from '../../contracts/call-record.js';
import { CALL_STATES, ENDED_BY } from '../../contracts/call-record.js';
import type { ErrorCode, Fault } from '../../contracts/errors.js';
import { ERROR_CODE_NAMES, FAULTS } from '../../contracts/errors.js';

export const CALL_EVENT_SOURCE = 'roomline';
export const CALL_EVENT_DETAIL_TYPE = 'Roomline Call State Changed';

/** The `detail` of a `Roomline Call State Changed` event (version 1). */
export interface CallStateChangedDetail {
  readonly version: 1;
  readonly callId: string;
  readonly state: CallState;
  /** The state before this change; null for the first record of a call. */
  readonly previousState: CallState | null;
  /** When the change was written (the record's updatedAt). */
  readonly at: string | null;
  readonly to?: string;
  readonly workerId?: string;
  readonly janusNode?: string;
  readonly attempts?: number;
  /** Last SIP status code seen. */
  readonly sipCode?: number;
  readonly endedBy?: EndedBy;
  readonly failure?: { readonly code: ErrorCode; readonly fault: Fault; readonly retryable: boolean; readonly sipCode?: number };
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A DynamoDB attribute value, as found in stream images. */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Readonly<Record<string, AttributeValue>> }
  | { readonly L: readonly AttributeValue[] }
  | Readonly<Record<string, unknown>>;

type Image = Readonly<Record<string, AttributeValue>>;

/** The parts of a DynamoDB stream record this step reads. */
export interface StreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly NewImage?: Image; readonly OldImage?: Image };
}

/** One event detail per record whose call state changed (or that created a call), in order. */
export function toCallEvents(records: readonly StreamRecord[]): CallStateChangedDetail[] {
  const details: CallStateChangedDetail[] = [];
  for (const record of records) {
    const detail = toCallEvent(record);
    if (detail !== undefined) details.push(detail);
  }
  return details;
}

function toCallEvent(record: StreamRecord): CallStateChangedDetail | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const next = record.dynamodb?.NewImage;
  if (next === undefined) return undefined;
  const callId = str(next['callId']);
  const state = oneOf(str(next['state']), CALL_STATES);
  if (callId === undefined || state === undefined) return undefined;
  const previous = record.dynamodb?.OldImage;
  const previousState = previous === undefined ? null : (oneOf(str(previous['state']), CALL_STATES) ?? null);
  if (previousState === state) return undefined;

  const failureMap = map(next['failure']);
  const failureCode = oneOf(str(failureMap?.['code']), ERROR_CODE_NAMES);
  const failureFault = oneOf(str(failureMap?.['fault']), FAULTS);
  const failureSip = num(failureMap?.['sipCode']);
  const metadataMap = map(next['metadata']);
  const metadata =
    metadataMap === undefined
      ? undefined
      : Object.fromEntries(Object.entries(metadataMap).flatMap(([k, v]) => (str(v) === undefined ? [] : [[k, str(v) as string]])));
  const sipCode = num(map(next['sip'])?.['lastCode']);
  const to = str(next['to']);
  const workerId = str(next['workerId']);
  const janusNode = str(next['janusNode']);
  const attempts = num(next['attempts']);
  const endedBy = oneOf(str(next['endedBy']), ENDED_BY);

  return {
    version: 1,
    callId,
    state,
    previousState,
    at: str(next['updatedAt']) ?? null,
    ...(to === undefined ? {} : { to }),
    ...(workerId === undefined ? {} : { workerId }),
    ...(janusNode === undefined ? {} : { janusNode }),
    ...(attempts === undefined ? {} : { attempts }),
    ...(sipCode === undefined ? {} : { sipCode }),
    ...(endedBy === undefined ? {} : { endedBy }),
    ...(failureCode === undefined || failureFault === undefined
      ? {}
      : {
          failure: {
            code: failureCode,
            fault: failureFault,
            retryable: bool(failureMap?.['retryable']) ?? false,
            ...(failureSip === undefined ? {} : { sipCode: failureSip }),
          },
        }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function str(value: AttributeValue | undefined): string | undefined {
  return value !== undefined && 'S' in value && typeof value.S === 'string' ? value.S : undefined;
}
function num(value: AttributeValue | undefined): number | undefined {
  if (value === undefined || !('N' in value) || typeof value.N !== 'string') return undefined;
  const parsed = Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}
function bool(value: AttributeValue | undefined): boolean | undefined {
  return value !== undefined && 'BOOL' in value && typeof value.BOOL === 'boolean' ? value.BOOL : undefined;
}
function map(value: AttributeValue | undefined): Readonly<Record<string, AttributeValue>> | undefined {
  return value !== undefined && 'M' in value && typeof value.M === 'object' && value.M !== null
    ? (value.M as Readonly<Record<string, AttributeValue>>)
    : undefined;
}
function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  return value !== undefined && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

/** Lambda entry point: the pipe sends the batch as an array and puts every returned element on the bus. */
export async function handler(records: readonly StreamRecord[]): Promise<CallStateChangedDetail[]> {
  return toCallEvents(records);
}
