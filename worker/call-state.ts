import {
  LIVE_STATES,
  MAX_CONTROL_REQUESTS,
  MAX_HISTORY_EVENTS,
  canTransition,
  isFinalState,
  type CallControlRequest,
  type CallEvent,
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
import type { CallControl } from '../contracts/call-control.js';
import type { DialRequest } from '../contracts/dial-request.js';
import { RoomlineError, type FailureInfo } from '../contracts/errors.js';
import { redactRoom } from '../contracts/rooms/index.js';

/**
 * The call state machine as pure functions over call records: every change of a record goes through here, so the
 * rules (allowed transitions, one owner, history, timings) live in one place and are tested without a database.
 */

/** The request as a call record keeps it: the room's secrets (pins, tokens) and the digits to dial after answer removed. */
export function storedRequest(request: DialRequest & { callId: string }): StoredDialRequest & { callId: string } {
  const { dtmfAfterAnswer: _digits, ...sip } = request.sip;
  return { ...request, room: redactRoom(request.room), sip };
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

/**
 * Fails a call no worker took yet (QUEUED, written by the client) as an invalid request: a worker refused it before
 * claiming it (its own allow-lists, stricter than the client's). Keeps the stored request; a record in any other state
 * is returned unchanged.
 */
export function rejectQueued(record: CallRecord, reason: string, now: Date): CallRecord {
  if (record.state !== 'QUEUED') return record;
  const at = now.toISOString();
  const { lastError: _last, leaseExpiresAt: _lease, workerId: _owner, ...rest } = record;
  return {
    ...rest,
    state: 'FAILED',
    revision: record.revision + 1,
    updatedAt: at,
    history: [...record.history, { state: 'FAILED', at, detail: `INVALID_REQUEST: ${reason}` }],
    timings: { ...record.timings, endedAt: at },
    failure: { code: 'INVALID_REQUEST', reason, retryable: false, fault: 'caller' },
  };
}

export type ClaimOutcome =
  | { readonly outcome: 'claimed'; readonly record: CallRecord }
  /** Someone else owns the call, or it is already over: this delivery is a duplicate. */
  | { readonly outcome: 'duplicate'; readonly record: CallRecord }
  /** The call's owner stopped renewing its lease: the call must be closed as lost, not dialed again. */
  | { readonly outcome: 'abandoned'; readonly record: CallRecord }
  /** A hangup was requested before any worker took the call: it ends here, nothing is dialed. */
  | { readonly outcome: 'cancelled'; readonly record: CallRecord };

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
  if (base.state === 'QUEUED' && base.hangupRequestedAt !== undefined) {
    return { outcome: 'cancelled', record: cancelQueued(base, input.now) };
  }
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
  /** What happened on the SIP leg to cause the change (e.g. a hold by the peer). */
  readonly event?: CallEvent;
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
    ...(input.event === undefined ? {} : { event: input.event }),
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

/** Who found a call whose owner disappeared. */
export type LostFinder = 'sweeper' | 'redelivery';

/** Whether the owner of `record` stopped renewing its lease (a live call whose lease ran out). */
export function leaseExpired(record: CallRecord, now: Date): boolean {
  return !isFinalState(record.state) && record.state !== 'QUEUED' && (record.leaseExpiresAt ?? 0) < now.getTime();
}

/** Closes a call whose owner disappeared; `by` says who found it (the sweeper, or a redelivery of its message). */
export function markLost(record: CallRecord, now: Date, by: LostFinder = 'redelivery'): CallRecord {
  const at = now.toISOString();
  const expiredMs = record.leaseExpiresAt === undefined ? undefined : now.getTime() - record.leaseExpiresAt;
  const failure: FailureInfo = {
    code: 'WORKER_LOST',
    reason:
      `worker ${record.workerId ?? '(unknown)'} stopped renewing its lease while the call was ${record.state}` +
      ` (found by the ${by}${expiredMs === undefined ? '' : `, ${Math.max(0, expiredMs)} ms after the lease ran out`})`,
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

/**
 * Marks that someone asked for the call to end; a no-op on a finished call. A call no worker holds (QUEUED) ends at
 * once, ENDED by the caller: the worker that receives its message later finds it over and dials nothing.
 */
export function requestHangup(record: CallRecord, now: Date): CallRecord {
  if (isFinalState(record.state)) return record;
  if (record.state === 'QUEUED') return cancelQueued(record, now);
  if (record.hangupRequestedAt !== undefined) return record;
  return { ...record, revision: record.revision + 1, hangupRequestedAt: now.toISOString(), updatedAt: now.toISOString() };
}

export interface EventInput {
  readonly event: CallEvent;
  readonly workerId: string;
  readonly now: Date;
  readonly detail?: string;
  readonly sipCode?: number;
  readonly media?: CallMedia;
  readonly sip?: SipInfo;
}

/**
 * Records an event of a live call that changes no state (a digit, a transfer's progress, a media update) as a
 * history entry keeping the current state. Past `MAX_HISTORY_EVENTS` event entries the record is left unchanged.
 */
export function recordEvent(record: CallRecord, input: EventInput): CallRecord {
  if (record.workerId !== input.workerId) {
    throw new RoomlineError('INTERNAL', `worker ${input.workerId} does not own call ${record.callId}`);
  }
  if (isFinalState(record.state)) return record;
  if (record.history.filter((h) => h.event !== undefined).length >= MAX_HISTORY_EVENTS) return record;
  const at = input.now.toISOString();
  const entry: CallHistoryEntry = {
    state: record.state,
    at,
    event: input.event,
    ...(input.detail === undefined ? {} : { detail: input.detail }),
    ...(input.sipCode === undefined ? {} : { sipCode: input.sipCode }),
  };
  return {
    ...record,
    revision: record.revision + 1,
    updatedAt: at,
    history: [...record.history, entry],
    ...(input.media === undefined ? {} : { media: input.media }),
    ...(input.sip === undefined ? {} : { sip: { ...record.sip, ...input.sip } }),
  };
}

/**
 * Adds a control request (DTMF, hold, resume, transfer) to a live call's record for its worker to carry out.
 * Refused (INVALID_REQUEST) when the call is not up, or when `MAX_CONTROL_REQUESTS` are still pending; acknowledged
 * requests are dropped, oldest first, to make room.
 */
export function requestControl(record: CallRecord, control: CallControl, id: string, now: Date): CallRecord {
  if (!LIVE_STATES.has(record.state) || record.hangupRequestedAt !== undefined) {
    const why = record.hangupRequestedAt !== undefined && !isFinalState(record.state) ? 'is being hung up' : `is ${record.state}`;
    throw new RoomlineError('INVALID_REQUEST', `call ${record.callId} ${why}: ${control.type} needs a connected call`);
  }
  const controls = [...(record.controls ?? [])];
  if (controls.some((c) => c.id === id)) return record;
  if (controls.filter((c) => c.status === 'pending').length >= MAX_CONTROL_REQUESTS) {
    throw new RoomlineError(
      'INVALID_REQUEST',
      `call ${record.callId} has ${MAX_CONTROL_REQUESTS} control requests pending: wait for them to be carried out`,
    );
  }
  while (controls.length >= MAX_CONTROL_REQUESTS) {
    const oldest = controls.findIndex((c) => c.status !== 'pending');
    controls.splice(oldest, 1);
  }
  const at = now.toISOString();
  controls.push({ id, requestedAt: at, control, status: 'pending' });
  return { ...record, revision: record.revision + 1, updatedAt: at, controls };
}

/** Marks a control request carried out (or failed, with why). A DTMF request's digits are cleared. */
export function acknowledgeControl(
  record: CallRecord,
  id: string,
  outcome: { readonly ok: true } | { readonly ok: false; readonly error: string },
  now: Date,
): CallRecord {
  const index = (record.controls ?? []).findIndex((c) => c.id === id && c.status === 'pending');
  if (index < 0) return record;
  const at = now.toISOString();
  const controls = (record.controls ?? []).map((request, i): CallControlRequest => {
    if (i !== index) return request;
    const control = request.control.type === 'dtmf' ? { ...request.control, digits: '' } : request.control;
    return {
      ...request,
      control,
      status: outcome.ok ? 'done' : 'failed',
      doneAt: at,
      ...(outcome.ok ? {} : { error: outcome.error }),
    };
  });
  return { ...record, revision: record.revision + 1, updatedAt: at, controls };
}

/** The control requests of a record that wait to be carried out, oldest first. */
export function pendingControls(record: CallRecord): CallControlRequest[] {
  return (record.controls ?? []).filter((c) => c.status === 'pending');
}
/** Ends a call that no worker holds (QUEUED), as hung up by the caller before it was placed. */
export function cancelQueued(record: CallRecord, now: Date): CallRecord {
  if (record.state !== 'QUEUED') {
    throw new RoomlineError('INTERNAL', `call ${record.callId} is ${record.state}, not QUEUED: it cannot be cancelled unclaimed`);
  }
  const at = now.toISOString();
  const { lastError: _last, leaseExpiresAt: _lease, workerId: _owner, ...rest } = record;
  return {
    ...rest,
    state: 'ENDED',
    revision: record.revision + 1,
    updatedAt: at,
    hangupRequestedAt: record.hangupRequestedAt ?? at,
    history: [...record.history, { state: 'ENDED', at, detail: 'hung up before a worker took the call: nothing was dialed' }],
    timings: { ...record.timings, endedAt: at },
    endedBy: 'caller',
  };
}
