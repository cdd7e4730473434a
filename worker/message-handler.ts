import { setTimeout as sleep } from 'node:timers/promises';
import type { CallRecord } from '../contracts/call-record.js';
import { safeParseDialRequest, type DialRequest } from '../contracts/dial-request.js';
import type { FailureInfo } from '../contracts/errors.js';
import { claim, invalidRequestRecord, markLost, rejectQueued, release, transition, type ClaimOutcome } from './call-state.js';
import type { CallStore } from './call-store.js';
import type { SessionOutcome } from './call-ending.js';
import type { DialMessage, DialQueue } from './dial-queue.js';
import type { Logger } from './logger.js';
import { preciseNow, type SetupRecorder } from './setup-recorder.js';

export interface MessageHandlerDeps {
  readonly queue: DialQueue;
  readonly store: CallStore;
  readonly logger: Logger;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly visibilityTimeoutS: number;
  /** Receives after which a retryable failure is final; must match the queue's maxReceiveCount. */
  readonly maxReceives: number;
  /** Seconds before a handed-back message is visible again, by receive count. @default min(30, 2^receiveCount) */
  readonly retryDelayS?: (receiveCount: number) => number;
  /**
   * Called for a valid request before the claim, beside the egress check (the worker protects its task from scale-in
   * here; a refused request is then not a call, and the worker gives the protection back). If the worker is told to
   * stop meanwhile (`stopRequested`), the message is handed back untouched.
   */
  readonly beforeClaim?: (request: DialRequest & { callId: string }) => Promise<void>;
  readonly stopRequested?: () => boolean;
  /**
   * Why a valid request may still not be placed (the worker's egress allow-lists), as a `path: message` reason; such a
   * request is recorded FAILED INVALID_REQUEST and deleted before the claim, like one that failed validation.
   */
  readonly refuse?: (request: DialRequest) => Promise<string | undefined>;
  /** The call's setup trace, from the message's enqueue: the handler adds its checks and the claim. @default none */
  readonly setup?: SetupRecorder;
  /** Runs the claimed call to its end. */
  readonly runCall: (request: DialRequest & { callId: string }, record: CallRecord, logger: Logger) => Promise<SessionOutcome>;
}

/** What handling one message came to. A worker exits after a `call`; after `skipped` it may take another message. */
export type HandledMessage =
  | { readonly kind: 'call'; readonly record: CallRecord; readonly retried: boolean }
  | {
      readonly kind: 'skipped';
      readonly reason: 'invalid' | 'duplicate' | 'abandoned' | 'cancelled' | 'shutdown';
      readonly callId: string;
    };

/**
 * One dial message, from arrival to deletion: validate (an invalid request is recorded FAILED and deleted, never
 * retried), claim the call (a duplicate delivery never dials twice; a call whose worker vanished is closed as
 * WORKER_LOST), keep the message invisible while the call runs, then delete it, or hand it back for a retryable
 * failure until the receive limit, after which the call is FAILED and the message left for the dead-letter queue.
 */
export async function handleDialMessage(message: DialMessage, deps: MessageHandlerDeps): Promise<HandledMessage> {
  const { queue, store, setup } = deps;
  const now = new Date();
  const validating = preciseNow();
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    body = undefined;
  }
  const parsed =
    body === undefined
      ? ({ ok: false, reason: 'the message body is not JSON', callId: undefined } as const)
      : safeParseDialRequest(body);
  setup?.span('request.validate', validating);
  if (!parsed.ok) return rejectInvalid(message, parsed.callId ?? `msg-${message.messageId}`, parsed.reason, deps, now, false);
  // a raw SendMessage without a callId gets the message id: stable across redeliveries of the same message
  const request = { ...parsed.request, callId: parsed.request.callId ?? `msg-${message.messageId}` };
  // the egress check (with its name resolution) runs beside the scale-in protection: neither waits for the other
  const checking = preciseNow();
  const refusal = (deps.refuse?.(parsed.request) ?? Promise.resolve(undefined)).then((reason) => {
    setup?.span('egress.check', checking, preciseNow(), reason === undefined ? {} : { failed: true, detail: reason });
    return reason;
  });
  const protecting = preciseNow();
  const protection = (deps.beforeClaim?.(request) ?? Promise.resolve()).then(() => setup?.span('worker.protect', protecting));
  const [refused] = await Promise.all([refusal, protection]);
  if (refused !== undefined) {
    return rejectInvalid(message, parsed.request.callId ?? `msg-${message.messageId}`, refused, deps, now, true);
  }

  const logger = deps.logger.child({ callId: request.callId });
  if (deps.stopRequested?.() === true) {
    await queue.handBack(message, 0);
    logger.info('stopping: dial message handed back unclaimed');
    return { kind: 'skipped', reason: 'shutdown', callId: request.callId };
  }
  let outcome: ClaimOutcome | undefined;
  const claiming = preciseNow();
  const claimed = await store.update(request.callId, (current) => {
    outcome = claim(current, {
      request,
      workerId: deps.workerId,
      leaseMs: deps.leaseMs,
      now: new Date(),
      ...(message.sentAt === undefined ? {} : { enqueuedAt: message.sentAt }),
    });
    if (outcome.outcome === 'abandoned') return markLost(outcome.record, new Date(), 'redelivery');
    return outcome.record;
  });
  setup?.span('claim', claiming);
  if (outcome === undefined || outcome.outcome !== 'claimed') {
    const reason = outcome?.outcome ?? 'duplicate';
    const said = {
      abandoned: 'the call lost its worker: recorded WORKER_LOST, not dialing again',
      cancelled: 'hangup requested before the call was placed: recorded ENDED, nothing dialed',
      duplicate: 'duplicate delivery: not dialing again',
    } as const;
    logger.info({ state: claimed.state, owner: claimed.workerId, receiveCount: message.receiveCount }, said[reason]);
    await deleteSoon(queue, message, logger);
    return { kind: 'skipped', reason, callId: request.callId };
  }

  logger.info({ to: request.to, room: request.room.provider, attempt: claimed.attempts }, 'call claimed');
  const visibility = queue.keepInvisible(message, deps.visibilityTimeoutS, logger);
  let result: SessionOutcome;
  try {
    result = await deps.runCall(request, claimed, logger);
  } finally {
    visibility.stop();
  }

  if (result.kind === 'final') {
    await deleteSoon(queue, message, logger);
    logger.info({ state: result.record.state, failure: result.record.failure?.code }, 'call finished');
    return { kind: 'call', record: result.record, retried: false };
  }
  return retryOrGiveUp(message, request.callId, result.record, result.failure, deps, logger);
}

/** An invalid or refused request: recorded FAILED INVALID_REQUEST (unless its callId is taken) and deleted, never retried. */
async function rejectInvalid(
  message: DialMessage,
  callId: string,
  reason: string,
  deps: MessageHandlerDeps,
  now: Date,
  /**
   * The request itself was valid (a worker's allow-lists refused it): its client's QUEUED record is failed too. A body
   * that does not parse only ever creates a record, so that it cannot fail someone else's queued call by naming it.
   */
  wellFormed: boolean,
): Promise<HandledMessage> {
  const logger = deps.logger.child({ callId });
  const record = await deps.store
    .update(callId, (current) => {
      if (current === undefined) return invalidRequestRecord(callId, reason, now, message.sentAt);
      return wellFormed ? rejectQueued(current, reason, now) : current;
    })
    .catch((error: unknown) => {
      logger.error({ error: String(error) }, 'recording an invalid dial request failed');
      return undefined;
    });
  logger.warn({ reason, recorded: record?.state === 'FAILED' }, 'invalid dial request: recorded FAILED and deleted');
  await deps.queue.delete(message);
  return { kind: 'skipped', reason: 'invalid', callId };
}

async function retryOrGiveUp(
  message: DialMessage,
  callId: string,
  known: CallRecord,
  failure: FailureInfo,
  deps: MessageHandlerDeps,
  logger: Logger,
): Promise<HandledMessage> {
  if (message.receiveCount >= deps.maxReceives) {
    const record = await deps.store.update(
      callId,
      (current) =>
        transition(current ?? known, {
          to: 'FAILED',
          workerId: deps.workerId,
          now: new Date(),
          failure: { ...failure, retryable: false },
          detail: `${failure.code} after ${message.receiveCount} attempts: ${failure.reason}`,
        }),
      { known },
    );
    // left undeleted: SQS moves it to the dead-letter queue on its next receive, for inspection and redrive
    await deps.queue.handBack(message, 0);
    logger.error({ code: failure.code, attempts: message.receiveCount }, 'giving up: call FAILED, message left for the DLQ');
    return { kind: 'call', record, retried: false };
  }
  const record = await deps.store.update(callId, (current) => release(current ?? known, deps.workerId, failure, new Date()), {
    known,
  });
  const delayS = deps.retryDelayS?.(message.receiveCount) ?? Math.min(30, 2 ** message.receiveCount);
  await deps.queue.handBack(message, delayS);
  logger.warn({ code: failure.code, attempt: message.receiveCount, retryInS: delayS }, 'retryable failure: handed back to the queue');
  return { kind: 'call', record, retried: true };
}

/**
 * Deletes a handled message, retrying through a short outage of the queue. Should it still fail, the message comes
 * back after its visibility timeout, finds its call over and is deleted then as a duplicate: nothing is dialed twice.
 */
async function deleteSoon(queue: DialQueue, message: DialMessage, logger: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await queue.delete(message);
      return;
    } catch (error) {
      if (attempt >= 4) {
        logger.warn({ error: String(error) }, 'deleting the dial message failed: it will come back and be dropped as a duplicate');
        return;
      }
      await sleep(Math.min(2_000, 250 * 2 ** attempt));
    }
  }
}
