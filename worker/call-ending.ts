import type { CallRecord, EndedBy } from '../contracts/call-record.js';
import type { DialRequest } from '../contracts/dial-request.js';
import { RoomlineError, assertNever, type FailureInfo } from '../contracts/errors.js';
import type { PageEventOf } from '../contracts/page-rpc.js';
import { describeSipCode, errorCodeForSipFailure } from '../contracts/sip-codes.js';
import type { TransitionInput } from './call-state.js';

/** Why the bridge decided to end a call (the first reason wins). */
export type EndIntent =
  | { readonly kind: 'hangup-requested' }
  | { readonly kind: 'ring-timeout' }
  | { readonly kind: 'max-duration' }
  | { readonly kind: 'room-empty' }
  | { readonly kind: 'room-lost'; readonly reason: string }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'failure'; readonly error: RoomlineError }
  /** The record says the call is no longer this worker's (another closed it as WORKER_LOST): hang up, write nothing. */
  | { readonly kind: 'lease-lost'; readonly record: CallRecord | undefined };

/** How a call session ended, for the worker: a final record, or a failure to hand back to the queue. */
export type SessionOutcome =
  | { readonly kind: 'final'; readonly record: CallRecord }
  | { readonly kind: 'retry'; readonly failure: FailureInfo; readonly record: CallRecord };

/** How a call ends: its final state change, or a failure the queue retries (the phone cannot have been rung). */
export type CallEnding =
  | { readonly kind: 'retry'; readonly failure: FailureInfo }
  | { readonly kind: 'final'; readonly input: Omit<TransitionInput, 'workerId' | 'now'> };

/** What decides how a call ends, once its SIP leg is down. */
export interface EndingFacts {
  /** The bridge's reason to end the call; none when the SIP leg ended by itself. */
  readonly intent: EndIntent | undefined;
  /** How the SIP leg ended, when the page said so. */
  readonly sipEnded: PageEventOf<'sip-ended'> | undefined;
  readonly connected: boolean;
  /** The target of a blind transfer the caller asked for, once the peer reported it done. */
  readonly transferredTo: string | undefined;
  /** A dial-in call. */
  readonly inbound: boolean;
  /** Whether the phone may have been rung (a failure then is never retried). */
  readonly mayHaveRung: boolean;
  readonly limits: DialRequest['limits'];
}

/** The call's end, from why it ended and how far it got. */
export function resolveEnding(facts: EndingFacts): CallEnding {
  const { intent, sipEnded: sip, connected, limits } = facts;
  const ended = (endedBy: EndedBy, detail: string, sipCode?: number) => ({
    kind: 'final' as const,
    input: { to: 'ENDED' as const, endedBy, detail, ...(sipCode === undefined ? {} : { sipCode }) },
  });
  const failed = (error: RoomlineError) => ({
    kind: 'final' as const,
    input: {
      to: 'FAILED' as const,
      failure: error.toJSON(),
      detail: `${error.code}: ${error.message}`,
      ...(error.sipCode === undefined ? {} : { sipCode: error.sipCode }),
    },
  });
  if (intent === undefined) {
    // the SIP leg ended by itself: a failure response before answer, a BYE after
    if (connected && facts.transferredTo !== undefined) return ended('caller', `transferred to ${facts.transferredTo}`);
    if (connected) return ended('remote', `remote hangup${sip?.reason ? ` (${sip.reason})` : ''}`, sip?.code);
    if (facts.inbound && sip?.code === 487) return ended('remote', sip.reason ?? 'the caller hung up before the answer', 487);
    const code = sip?.code;
    const errorCode = errorCodeForSipFailure(code);
    const reason = code === undefined ? sip?.reason ?? 'no SIP response' : `${code} ${sip?.reason ?? describeSipCode(code)}`;
    return failed(new RoomlineError(errorCode, reason, code === undefined ? {} : { sipCode: code }));
  }
  switch (intent.kind) {
    case 'hangup-requested':
      return ended(
        'caller',
        connected ? 'hangup requested' : facts.mayHaveRung ? 'cancelled before answer' : 'hung up before the phone was dialed',
      );
    case 'ring-timeout':
      return failed(
        new RoomlineError('SIP_NO_ANSWER', `no answer within ${limits.ringTimeoutS} s`, {
          ...(sip?.code === undefined ? {} : { sipCode: sip.code }),
        }),
      );
    case 'max-duration':
      return ended('limit', `maximum duration of ${limits.maxDurationS} s reached`);
    case 'room-empty':
      return ended('room', `room empty for ${limits.emptyRoomTimeoutS} s`);
    case 'room-lost': {
      if (connected) return ended('room', intent.reason);
      const error = new RoomlineError('ROOM_UNREACHABLE', intent.reason, { retryable: !facts.mayHaveRung });
      return error.retryable ? { kind: 'retry', failure: error.toJSON() } : failed(error);
    }
    case 'shutdown': {
      if (connected) return ended('system', 'worker shutting down');
      const error = new RoomlineError('WORKER_SHUTDOWN', 'worker shut down before the call connected', {
        retryable: !facts.mayHaveRung,
      });
      return error.retryable ? { kind: 'retry', failure: error.toJSON() } : failed(error);
    }
    case 'failure':
      // retried exactly when the phone cannot have been rung
      if (intent.error.retryable && !facts.mayHaveRung) return { kind: 'retry', failure: intent.error.toJSON() };
      return failed(
        facts.mayHaveRung
          ? new RoomlineError(intent.error.code, intent.error.message, {
              retryable: false,
              ...(intent.error.sipCode === undefined ? {} : { sipCode: intent.error.sipCode }),
            })
          : intent.error,
      );
    case 'lease-lost':
      // finish() writes nothing for a call taken over; this is what the record would have said
      return failed(new RoomlineError('WORKER_LOST', 'the call was taken over', { retryable: false }));
    default:
      return assertNever(intent, 'end intent');
  }
}
