import { setTimeout as sleep } from 'node:timers/promises';
import { isFinalState, type CallRecord } from '../contracts/call-record.js';
import type { CallStore } from './call-store.js';
import { leaseRenewalMs } from './lease-timing.js';
import type { Logger } from './logger.js';

export interface CallLeaseOptions {
  readonly callId: string;
  readonly store: CallStore;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** How often the record is read for a hangup or control request. @default 1000 */
  readonly watchIntervalMs?: number | undefined;
  /** The record says the call is no longer this worker's (closed as WORKER_LOST meanwhile); renewal has stopped. */
  readonly lost: (record: CallRecord | undefined) => void;
  /** The record asks for a hangup. */
  readonly hangupRequested: () => void;
  /** The record as read, still this worker's and with no hangup asked for (its control requests are the call's). */
  readonly read: (record: CallRecord) => void;
}

/**
 * The call's hold on its record while it runs: the lease renewed on its own timer, and the record read at once and
 * then every second for a hangup request, new control requests, or the news that the call was taken over.
 */
export class CallLease {
  private leaseTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private watching = true;
  private readonly stopWatching = new AbortController();

  constructor(private readonly options: CallLeaseOptions) {}

  /** Starts renewing and watching; resolves once {@link stop} ended the watch. */
  start(): Promise<void> {
    this.renewLeaseEvery(leaseRenewalMs(this.options.leaseMs));
    return this.watchRecord();
  }

  /** Stops watching the record and renewing the lease. */
  stop(): void {
    this.watching = false;
    this.stopWatching.abort();
    this.stopRenewal();
  }

  /**
   * Renews the call's lease on its own timer, apart from the record's other writes (which may wait behind an outage),
   * each attempt abandoned before the next is due. When the record says the call is no longer this worker's (the
   * sweeper or a redelivery closed it as WORKER_LOST while this worker could not renew), the call is told at once.
   */
  private renewLeaseEvery(periodMs: number): void {
    const { store, callId, workerId, leaseMs, logger } = this.options;
    this.renewing = true;
    const renew = async (): Promise<void> => {
      let nextMs = periodMs;
      try {
        const renewal = await store.renewLease(callId, workerId, leaseMs, {
          abortSignal: AbortSignal.timeout(Math.max(200, periodMs - 100)),
        });
        if (renewal.kind === 'lost') {
          this.lost(renewal.record);
          return;
        }
      } catch (error) {
        nextMs = Math.min(1_000, periodMs);
        logger.warn({ error: String(error), retryInMs: nextMs }, 'renewing the lease failed');
      }
      if (this.renewing) this.leaseTimer = setTimeout(() => void renew(), nextMs);
    };
    this.leaseTimer = setTimeout(() => void renew(), periodMs);
  }

  private stopRenewal(): void {
    this.renewing = false;
    if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
  }

  private lost(record: CallRecord | undefined): void {
    this.stopRenewal();
    this.options.lost(record);
  }

  /**
   * Reads the record at once and then every second: a hangup request ends the call; a record that is no longer this
   * worker's (closed as WORKER_LOST meanwhile) ends it too, without writing.
   */
  private async watchRecord(): Promise<void> {
    const { store, callId, workerId, logger } = this.options;
    const interval = this.options.watchIntervalMs ?? 1_000;
    while (this.watching) {
      try {
        const stored = await store.get(callId);
        if (stored !== undefined && (stored.workerId !== workerId || isFinalState(stored.state))) {
          this.lost(stored);
        } else if (stored?.hangupRequestedAt !== undefined) {
          this.options.hangupRequested();
        } else if (stored !== undefined) {
          this.options.read(stored);
        }
      } catch (error) {
        logger.warn({ error: String(error) }, 'watching the call record failed');
      }
      await sleep(interval, undefined, { signal: this.stopWatching.signal }).catch(() => undefined);
    }
  }
}
