import {
  canTransition,
  isFinalState,
  type CallHistoryEntry,
  type CallMedia,
  type CallRecord,
  type CallState,
  type CallTimings,
  type EndedBy,
  type QualitySummary,
  type SipInfo,
  type StoredDialRequest,
} from '../contracts/call-record.js';
import type { DialRequest } from '../contracts/dial-request.js';
import { RoomlineError, type FailureInfo } from '../contracts/errors.js';
import { redactRoom } from '../contracts/rooms/index.js';

/**
 * The call state machine as pure functions over call records: every change of a record goes through here, so the
 * rules (allowed transitions, one owner, history, timings) live in one place and are tested without a database.
 */

/** The request as a call record keeps it: the room's secrets (pins, tokens) removed. */
export function storedRequest(request: DialRequest & { callId: string }): StoredDialRequest & { callId: string } {
  return { ...request, room: redactRoom(request.room) };
}

export function newQueuedRecord(request: DialRequest & { callId: string }, now: Date): CallRecord {
  const at = now.toISOString();
  return {
    callId: request.callId,
    state: 'QUEUED',
    revision: 1,
    createdAt: at,
    updatedAt: at,
    history: [{ state: 'QUEUED', at }],
    request: storedRequest(request),
    to: request.to,
    attempts: 0,
    timings: { enqueuedAt: at },
    ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
  };
}

/** A record for a message that failed validation: final at once. */
export function invalidRequestRecord(callId: string, reason: string, now: Date, enqueuedAt?: Date): CallRecord {
  const at = now.toISOString();
  const failure: FailureInfo = { code: 'INVALID_REQUEST', reason, retryable: false, fault: 'caller' };
  const queuedAt = (enqueuedAt ?? now).toISOString();
  return {
    callId,
    state: 'FAILED',
    revision: 1,
    createdAt: queuedAt,
    updatedAt: at,
    history: [
      { state: 'QUEUED', at: queuedAt },
      { state: 'FAILED', at, detail: `INVALID_REQUEST: ${reason}` },
    ],
    attempts: 0,
    timings: { enqueuedAt: queuedAt, endedAt: at },
    failure,
  };
}

export type ClaimOutcome =
  | { readonly outcome: 'claimed'; readonly record: CallRecord }
  /** Someone else owns the call, or it is already over: this delivery is a duplicate. */
  | { readonly outcome: 'duplicate'; readonly record: CallRecord }
  /** The call's owner stopped renewing its lease: the call must be closed as lost, not dialed again. */
  | { readonly outcome: 'abandoned'; readonly record: CallRecord };

export interface ClaimInput {
  readonly request: DialRequest & { callId: string };
  readonly workerId: string;
  readonly leaseMs: number;
  readonly now: Date;
  /** When the message was sent (SQS SentTimestamp), for a record created by the worker. */
  readonly enqueuedAt?: Date;
}

/** Decides what a worker that received a dial message may do with the call's current record. */
export function claim(current: CallRecord | undefined, input: ClaimInput): ClaimOutcome {
  const at = input.now.toISOString();
  const base = current ?? newQueuedRecord(input.request, input.enqueuedAt ?? input.now);
  if (base.state === 'QUEUED') {
    return {
      outcome: 'claimed',
      record: {
        ...base,
        state: 'CLAIMED',
        revision: base.revision + (current === undefined ? 0 : 1),
        updatedAt: at,
        history: [...base.history, { state: 'CLAIMED', at, workerId: input.workerId }],
        workerId: input.workerId,
        leaseExpiresAt: input.now.getTime() + input.leaseMs,
        attempts: base.attempts + 1,
        timings: { ...base.timings, claimedAt: at },
        request: base.request ?? storedRequest(input.request),
        to: base.to ?? input.request.to,
      },
    };
  }
  if (isFinalState(base.state)) return { outcome: 'duplicate', record: base };
  if ((base.leaseExpiresAt ?? 0) < input.now.getTime()) return { outcome: 'abandoned', record: base };
  return { outcome: 'duplicate', record: base };
}

export interface TransitionInput {
  readonly to: CallState;
  readonly workerId: string;
  readonly now: Date;
  readonly detail?: string;
  readonly sipCode?: number;
  readonly sip?: SipInfo;
  readonly timings?: CallTimings;
  readonly janusNode?: string;
  readonly endedBy?: EndedBy;
  readonly failure?: FailureInfo;
  readonly quality?: QualitySummary;
  readonly media?: CallMedia;
  readonly leaseMs?: number;
}

/** Moves a call to its next state, checking the transition is allowed and made by the call's owner. */
export function transition(record: CallRecord, input: TransitionInput): CallRecord {
  if (record.workerId !== input.workerId) {
    throw new RoomlineError('INTERNAL', `worker ${input.workerId} does not own call ${record.callId}`);
  }
  if (!canTransition(record.state, input.to)) {
    throw new RoomlineError('INTERNAL', `call ${record.callId} cannot go from ${record.state} to ${input.to}`);
  }
  const at = input.now.toISOString();
  const entry: CallHistoryEntry = {
    state: input.to,
    at,
    ...(input.detail === undefined ? {} : { detail: input.detail }),
    ...(input.sipCode === undefined ? {} : { sipCode: input.sipCode }),
  };
  const final = isFinalState(input.to);
  const next: CallRecord = {
    ...record,
    state: input.to,
    revision: record.revision + 1,
    updatedAt: at,
    history: [...record.history, entry],
    ...(input.sip === undefined ? {} : { sip: { ...record.sip, ...input.sip } }),
    timings: { ...record.timings, ...input.timings, ...(final ? { endedAt: at } : {}) },
    ...(input.janusNode === undefined ? {} : { janusNode: input.janusNode }),
    ...(input.endedBy === undefined ? {} : { endedBy: input.endedBy }),
    ...(input.failure === undefined ? {} : { failure: input.failure }),
    ...(input.quality === undefined ? {} : { quality: input.quality }),
    ...(input.media === undefined ? {} : { media: input.media }),
    ...(input.leaseMs === undefined ? {} : { leaseExpiresAt: input.now.getTime() + input.leaseMs }),
  };
  if (final) {
    const { leaseExpiresAt: _lease, lastError: _last, ...rest } = next;
    return rest;
  }
  return next;
}

/** Hands a call back to the queue after a retryable failure: no owner, the error kept for the next attempt. */
export function release(record: CallRecord, workerId: string, failure: FailureInfo, now: Date): CallRecord {
  const queued = transition(record, { to: 'QUEUED', workerId, now, detail: `retrying after ${failure.code}: ${failure.reason}` });
  const { workerId: _owner, leaseExpiresAt: _lease, ...rest } = queued;
  return { ...rest, lastError: failure };
}

/** Closes a call whose owner disappeared. */
export function markLost(record: CallRecord, now: Date): CallRecord {
  const at = now.toISOString();
  const failure: FailureInfo = {
    code: 'WORKER_LOST',
    reason: `worker ${record.workerId ?? '(unknown)'} stopped renewing its lease while the call was ${record.state}`,
    retryable: false,
    fault: 'us',
  };
  const { leaseExpiresAt: _lease, ...rest } = record;
  return {
    ...rest,
    state: 'FAILED',
    revision: record.revision + 1,
    updatedAt: at,
    history: [...record.history, { state: 'FAILED', at, detail: `WORKER_LOST: ${failure.reason}` }],
    timings: { ...record.timings, endedAt: at },
    failure,
  };
}

export function renewLease(record: CallRecord, workerId: string, leaseMs: number, now: Date): CallRecord {
  if (record.workerId !== workerId || isFinalState(record.state)) return record;
  return { ...record, revision: record.revision + 1, leaseExpiresAt: now.getTime() + leaseMs };
}

/** Marks that someone asked for the call to end; a no-op on a finished call. */
export function requestHangup(record: CallRecord, now: Date): CallRecord {
  if (isFinalState(record.state) || record.hangupRequestedAt !== undefined) return record;
  return { ...record, revision: record.revision + 1, hangupRequestedAt: now.toISOString(), updatedAt: now.toISOString() };
}
