import type { CallRecord } from '../contracts/call-record.js';
import { leaseExpired, markLost } from './call-state.js';
import type { CallStore } from './call-store.js';
import type { Logger } from './logger.js';

export interface CallSweeperOptions {
  readonly store: CallStore;
  readonly logger: Logger;
  /** Time between sweeps, in ms; each wait is drawn within ±20 % of it so that a pool's workers spread out. */
  readonly intervalMs: number;
  /** Called for each call this sweeper closed (not for one another sweeper closed first). */
  readonly onClosed?: (record: CallRecord) => void;
}

/**
 * Closes calls whose worker is gone. Every worker runs one, idle or busy, for as long as it lives: it reads the calls
 * table's sparse `active-calls` index (only calls that are not final are in it), and closes each call whose lease ran
 * out as `FAILED WORKER_LOST`, in a conditional write that re-checks the lease on a consistent read (two sweepers, or a
 * sweeper and the call's own worker renewing at the last moment, never both win). A call whose worker died is final
 * within its lease plus one sweep interval, whether or not its dial message ever comes back.
 */
export class CallSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly options: CallSweeperOptions) {}

  /** One sweep: returns the calls it closed. */
  async sweepOnce(now: () => Date = () => new Date()): Promise<CallRecord[]> {
    const { store, logger } = this.options;
    const candidates = (await store.activeCalls()).filter((record) => leaseExpired(record, now()));
    const closed: CallRecord[] = [];
    for (const candidate of candidates) {
      let closedHere = false;
      try {
        const record = await store.update(candidate.callId, (current) => {
          closedHere = current !== undefined && leaseExpired(current, now());
          if (current === undefined) return candidate; // deleted meanwhile: nothing to write (same revision)
          return closedHere ? markLost(current, now(), 'sweeper') : current;
        });
        if (!closedHere) continue;
        closed.push(record);
        logger.warn(
          { callId: record.callId, owner: candidate.workerId, wasState: candidate.state, reason: record.failure?.reason },
          'swept a call whose worker is gone: recorded FAILED WORKER_LOST',
        );
        this.options.onClosed?.(record);
      } catch (error) {
        logger.warn({ callId: candidate.callId, error: String(error) }, 'closing a lost call failed; the next sweep tries again');
      }
    }
    return closed;
  }

  /** Sweeps every interval until {@link stop}; the first sweep comes within one interval. */
  start(): void {
    if (this.timer !== undefined || this.stopped || this.options.intervalMs <= 0) return;
    this.schedule(Math.random() * this.options.intervalMs);
  }

  /** Stops sweeping; resolves once a sweep under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .catch((error: unknown) => this.options.logger.warn({ error: String(error) }, 'sweeping for lost calls failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.options.intervalMs * (0.8 + Math.random() * 0.4));
        });
    }, delayMs);
    this.timer.unref();
  }
}
