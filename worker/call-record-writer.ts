import { setTimeout as sleep } from 'node:timers/promises';
import { isFinalState, type CallEvent, type CallRecord } from '../contracts/call-record.js';
import { RoomlineError } from '../contracts/errors.js';
import { recordEvent, transition, type EventInput, type TransitionInput } from './call-state.js';
import type { CallObserver } from './call-session-options.js';
import type { CallStore } from './call-store.js';
import type { Logger } from './logger.js';
import type { SetupTrace } from '../contracts/setup-trace.js';

/** How long a record write is retried through an outage of the table (a stopping worker: less). */
export const WRITE_RETRY_MS = 30_000;
export const SHUTDOWN_WRITE_RETRY_MS = 3_000;

export interface CallRecordWriterOptions {
  readonly callId: string;
  /** The record as the call was claimed. */
  readonly record: CallRecord;
  readonly store: CallStore;
  readonly workerId: string;
  readonly logger: Logger;
  readonly observer?: CallObserver | undefined;
  /** The call's setup trace as it is now: each write of the record carries it (no write of its own). */
  readonly setup?: () => SetupTrace;
}

/**
 * The call's writes to its record, one after another in the order they were asked for: state changes, SIP details,
 * events, any other change. The call does not wait for them; each is retried through an outage of the table.
 */
export class CallRecordWriter {
  private current: CallRecord;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: CallRecordWriterOptions) {
    this.current = options.record;
  }

  /** The record as this worker last wrote (or was given) it. */
  get record(): CallRecord {
    return this.current;
  }

  /** Resolves once every write asked for so far has been made (or given up). */
  async settled(): Promise<void> {
    await this.writes.catch(() => undefined);
  }

  /** A state change, serialised after earlier writes, retried through an outage of the table for up to `retryMs`. */
  step(input: Omit<TransitionInput, 'workerId' | 'now'>, retryMs = WRITE_RETRY_MS): Promise<void> {
    const { store, callId, workerId, logger, observer } = this.options;
    return this.enqueue(retryMs, async () => {
      if (isFinalState(this.current.state)) return;
      const previous = this.current.state;
      this.current = await store.update(
        callId,
        (current) => this.withSetup(transition(current ?? this.current, { ...input, workerId, now: new Date() })),
        { known: this.current },
      );
      logger.info({ state: this.current.state, from: previous, detail: input.detail }, 'call state');
      observer?.stateChanged(this.current, previous);
    });
  }

  /** A change of SIP details, timings or live quality without a state change. */
  patch(change: {
    sip?: TransitionInput['sip'];
    timings?: TransitionInput['timings'];
    quality?: TransitionInput['quality'];
  }): Promise<void> {
    return this.change(
      (base) => ({
        ...base,
        revision: base.revision + 1,
        updatedAt: new Date().toISOString(),
        ...(change.sip === undefined ? {} : { sip: { ...base.sip, ...change.sip } }),
        ...(change.timings === undefined ? {} : { timings: { ...base.timings, ...change.timings } }),
        ...(change.quality === undefined ? {} : { quality: change.quality }),
      }),
      { unlessFinal: true },
    );
  }

  /** A call event in the record's history (a digit, a transfer's progress, a media update), after earlier writes. */
  event(event: CallEvent, detail: string, extra: Pick<EventInput, 'sipCode' | 'media'> = {}): Promise<void> {
    const { workerId } = this.options;
    return this.change((base) => recordEvent(base, { event, detail, ...extra, workerId, now: new Date() }), { unlessFinal: true });
  }

  /** Any other change of the record (a PIN line's route, a control's acknowledgement), final or not, after earlier writes. */
  update(apply: (base: CallRecord) => CallRecord): Promise<void> {
    return this.change(apply, { unlessFinal: false });
  }

  private change(apply: (base: CallRecord) => CallRecord, options: { unlessFinal: boolean }): Promise<void> {
    return this.enqueue(WRITE_RETRY_MS, async () => {
      if (options.unlessFinal && isFinalState(this.current.state)) return;
      this.current = await this.options.store.update(this.options.callId, (current) => this.withSetup(apply(current ?? this.current)), {
        known: this.current,
      });
    });
  }

  /** The record with the setup trace as it is now. */
  private withSetup(record: CallRecord): CallRecord {
    const setup = this.options.setup?.();
    return setup === undefined || setup.steps.length === 0 ? record : { ...record, setup };
  }

  /**
   * Queues a write after the earlier ones. A write that fails because the table cannot be reached (not because the
   * change is refused) is tried again with backoff for up to `retryMs`: a table that comes back gets every state.
   */
  private enqueue(retryMs: number, write: () => Promise<void>): Promise<void> {
    const next = this.writes.then(() => this.retrying(write, retryMs));
    this.writes = next.catch((error: unknown) =>
      this.options.logger.error({ error: String(error) }, 'writing the call record failed'),
    );
    return next;
  }

  private async retrying(write: () => Promise<void>, retryMs: number): Promise<void> {
    const deadline = Date.now() + retryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        const refused = error instanceof RoomlineError && !error.retryable;
        if (refused || Date.now() >= deadline) throw error;
        const waitMs = Math.min(2_000, 200 * 2 ** attempt);
        this.options.logger.warn({ error: String(error), retryInMs: waitMs }, 'writing the call record failed: retrying');
        await sleep(waitMs);
      }
    }
  }
}
