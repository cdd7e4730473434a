import { readFile } from 'node:fs/promises';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, onTestFailed } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import { Lab, type LabOptions } from '../../lab/lab.js';

/**
 * Starts the real lab for an end-to-end file. With CI=true a missing dependency fails the run (Lab.start throws);
 * nothing is skipped anywhere.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  return Lab.start({ workers: 1, ...options });
}

/**
 * One lab for a test file: started before its tests, stopped after them; before each test a warm worker is waiting,
 * after each any call still up is hung up (a test that failed half-way must not leave its call running into the
 * next); a failing test shows the workers' logs. `ready` receives the lab once it is up.
 */
export function useLab(options: LabOptions, ready: (lab: Lab) => void | Promise<void>): void {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab(options);
    await ready(lab);
  });
  afterAll(async () => {
    await lab?.stop();
  });
  beforeEach(async () => {
    showWorkerLogsOnFailure(() => lab);
    await lab?.pool?.waitReady(1);
  });
  afterEach(async () => {
    await lab?.hangUpLiveCalls();
  });
}

/** On failure, prints the end of every worker's log, so a red test explains itself. */
export function showWorkerLogsOnFailure(lab: () => Lab | undefined): void {
  onTestFailed(async () => {
    const current = lab();
    if (current?.pool === undefined) return;
    for (const worker of current.pool.workers.slice(-3)) {
      const text = await readFile(worker.logFile, 'utf8').catch(() => '');
      const lines = text.trim().split('\n').slice(-25).join('\n');
      process.stderr.write(`\n--- ${worker.logFile} (last lines) ---\n${lines}\n`);
    }
  });
}

export const isFinal = (r: CallRecord) => r.state === 'ENDED' || r.state === 'FAILED';
export const states = (r: CallRecord | undefined) => r?.history.map((h) => h.state) ?? [];

/**
 * Messages in one of the lab's queues now (the dial queue unless another is named): visible, and in flight. It
 * receives none (a receive would count towards the redrive to the dead-letter queue).
 */
export async function queueDepth(lab: Lab, url: string = lab.emulators.queueUrl): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await lab.emulators.sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
