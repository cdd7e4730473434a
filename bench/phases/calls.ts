import { setTimeout as sleep } from 'node:timers/promises';
import type { CallRecord } from '../../contracts/call-record.js';
import type { DirectCaller } from '../../lab/direct-caller.js';
import type { Lab } from '../../lab/lab.js';
import { waitUntil } from '../../lab/wait.js';
import type { Logger } from '../../worker/logger.js';
import { UsageMeter, type UsageReport } from '../lib/usage-meter.js';
import type { FigureId, FigureValues } from '../lib/report.js';
import type { BenchPlan } from '../plan.js';

/**
 * What every phase of the benchmark works with, and the steps of a call they share: a Roomline call placed, waited
 * for and hung up through the lab's client; a direct call waited for until answered; a process metered.
 */

/** One run of the benchmark as its phases see it. */
export interface BenchRun {
  readonly lab: Lab;
  readonly plan: BenchPlan;
  /** The environment of the run's workers (the lab's, with the bench's log level and quality interval). */
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Prints a progress line. */
  readonly out: (line: string) => void;
}

/** The figures a run has measured so far, filled in by each phase. */
export type Figures = Partial<Record<FigureId, FigureValues>>;

/** The call's way to the phone: through Roomline, or the direct page's call with no room and no bridge. */
export type Path = 'roomline' | 'direct';

/** A dial request that calls the lab's phone into `roomId` and stays up until hung up. */
export function quickRequest(lab: Lab, roomId: number = lab.endpoints.room.roomId) {
  return lab.dialRequest({
    room: { ...lab.endpoints.room, roomId, display: 'Phone' },
    limits: { ringTimeoutS: 10, maxDurationS: 600, emptyRoomTimeoutS: 0 },
  });
}

export async function untilConnected(lab: Lab, callId: string, timeoutMs = 20_000): Promise<CallRecord> {
  return lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED', {
    timeoutMs,
    intervalMs: 50,
  });
}

export async function hangUp(lab: Lab, callId: string): Promise<CallRecord> {
  await lab.client.requestHangup(callId);
  return lab.client.waitForCall(callId, (r) => r.state === 'ENDED' || r.state === 'FAILED', { timeoutMs: 20_000, intervalMs: 50 });
}

export async function directUntilAnswered(direct: DirectCaller): Promise<number> {
  let answeredAt: number | undefined;
  await waitUntil(
    async () => {
      const state = await direct.state();
      answeredAt = state.acceptedAt;
      return answeredAt !== undefined || state.endedAt !== undefined;
    },
    { timeoutMs: 15_000, what: 'the direct call to be answered', intervalMs: 20 },
  );
  if (answeredAt === undefined) throw new Error('the direct call ended without an answer');
  return answeredAt;
}

/** CPU and memory of a process tree over `seconds`, sampled every second. */
export async function meter(pid: number, seconds: number): Promise<UsageReport> {
  const usage = await UsageMeter.start(pid);
  usage.sampleEvery(1_000);
  await sleep(seconds * 1000);
  return usage.stop();
}

/** Bytes as whole MB. */
export function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
