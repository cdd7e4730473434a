import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../lab/lab.js';
import { waitUntil } from '../../lab/wait.js';
import { packageRoot } from '../../worker/paths.js';
import { isFinal, queueDepth, useLab } from '../support/lab.js';
import { HOSTILE_KINDS, hostileCorpus, issueCrashBody, queueCarries, type HostileCase } from '../support/hostile-requests.js';

/**
 * The hostile corpus against the real system: sent raw to the lab's dial queue (as an attacker with queue access
 * would), every body is refused by a real warm worker, which records FAILED INVALID_REQUEST (under the request's
 * callId when one can be salvaged), deletes the message, neither crashes nor wedges, and then bridges a valid call;
 * and a sample of every kind given to the real `roomline dial` is refused with exit code 2 and `path: message`.
 */
const corpus: HostileCase[] = [
  ...hostileCorpus(100, 7_000_001),
  { kind: 'unknown-field', label: 'the issue\'s crash body', body: issueCrashBody('hostile-crash-body'), expectPath: '(request)', callId: 'hostile-crash-body', needsPolicy: false },
];

let lab: Lab;
useLab({ workers: 1 }, (started) => {
  lab = started;
});

/** Messages in a queue, visible or in flight. */
async function messagesIn(url: string): Promise<number> {
  const { visible, inFlight } = await queueDepth(lab, url);
  return visible + inFlight;
}

function roomline(args: readonly string[], input: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'roomline.mjs'), ...args], {
      env: { ...process.env, ...lab.endpoints.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

describe('hostile dial requests sent raw to the lab\'s queue', () => {
  it('are each recorded FAILED INVALID_REQUEST and deleted by one warm worker, which then bridges a valid call', async () => {
    // Prepare
    const worker = lab.pool!.workers.find((w) => w.state === 'ready')!;
    const carried = corpus.filter((c) => queueCarries(c.body));
    const expectedIds: string[] = [];
    const queue = lab.emulators.sqsClient();
    const started = Date.now();

    // Act: up to ten to a batch (and under SQS's 1 MiB a batch), in the order generated
    const batches: HostileCase[][] = [];
    for (const c of carried) {
      const last = batches.at(-1);
      const size = (last ?? []).reduce((n, b) => n + Buffer.byteLength(b.body), 0) + Buffer.byteLength(c.body);
      if (last !== undefined && last.length < 10 && size < 900_000) last.push(c);
      else batches.push([c]);
    }
    for (const batch of batches) {
      const sent = await queue.send(
        new SendMessageBatchCommand({
          QueueUrl: lab.endpoints.sqs.queueUrl,
          Entries: batch.map((c, j) => ({ Id: String(j), MessageBody: c.body })),
        }),
      );
      expect(sent.Failed ?? []).toEqual([]);
      for (const entry of sent.Successful ?? []) {
        const c = batch[Number(entry.Id)]!;
        expectedIds.push(c.callId ?? `msg-${entry.MessageId}`);
      }
    }
    // the worker is done when the queue is empty; then every record is read once
    await waitUntil(async () => (await messagesIn(lab.endpoints.sqs.queueUrl)) === 0, { timeoutMs: 240_000, what: 'the worker to empty the dial queue' });
    const handledMs = Date.now() - started;
    const records = new Map<string, Awaited<ReturnType<Lab['client']['getCall']>>>();
    for (let i = 0; i < expectedIds.length; i += 50) {
      const chunk = expectedIds.slice(i, i + 50);
      const read = await Promise.all(chunk.map((id) => lab.client.getCall(id)));
      read.forEach((record, j) => record !== undefined && records.set(chunk[j]!, record));
    }
    const valid = await lab.client.enqueueDial(lab.dialRequest({ limits: { ringTimeoutS: 20, maxDurationS: 2, emptyRoomTimeoutS: 30 } }));
    const afterwards = await lab.client.waitForCall(valid, isFinal, { timeoutMs: 60_000 });
    const log = await readFile(worker.logFile, 'utf8');

    // Assess
    expect(carried.length).toBeGreaterThanOrEqual(980);
    expect(records.size, `${records.size} of ${expectedIds.length} recorded after ${handledMs} ms`).toBe(expectedIds.length);
    for (const [id, record] of records) {
      expect(record, id).toMatchObject({ state: 'FAILED', failure: { code: 'INVALID_REQUEST', fault: 'caller', retryable: false } });
      expect(JSON.stringify(record).length, id).toBeLessThan(16 * 1024);
    }
    expect(records.get('hostile-crash-body')?.failure?.reason).toBe('(request): too many fields: 22009');
    expect(afterwards).toMatchObject({ state: 'ENDED', endedBy: 'limit', workerId: `lab-worker-${worker.index}` });
    expect(lab.pool!.workers.filter((w) => w.exitCode !== undefined && w.exitCode !== 0)).toEqual([]);
    expect(Math.max(...log.split('\n').map((line) => line.length))).toBeLessThan(8 * 1024);
    process.stdout.write(`hostile-queue: ${carried.length} bodies refused by one worker in ${handledMs} ms (${corpus.length - carried.length} refused by SQS itself)\n`);
  }, 300_000);

  it('leave nothing in the queue or the dead-letter queue', async () => {
    // Act
    const counts = await Promise.all([lab.endpoints.sqs.queueUrl, lab.endpoints.sqs.deadLetterQueueUrl].map(messagesIn));

    // Assess
    expect(counts).toEqual([0, 0]);
  });
});

describe('hostile dial requests given to the roomline command', () => {
  it('are refused with exit code 2 and path: message, one of every kind', async () => {
    // Prepare
    const sample = HOSTILE_KINDS.flatMap((kind) => corpus.filter((c) => c.kind === kind).slice(0, 1));
    const wrong: string[] = [];

    // Act
    for (const c of sample) {
      const dial = await roomline(['dial', '--json', '-'], c.body);
      const prefix = 'roomline: invalid dial request: ';
      const reason = dial.err.startsWith(prefix) ? dial.err.slice(prefix.length) : '';
      const path = c.expectPath === 'json' ? 'json:' : c.expectPath;
      const named = reason.startsWith(path) || reason.includes(`; ${path}`);
      if (dial.code !== 2 || !named || dial.out !== '') wrong.push(`${c.kind} ${c.label}: ${dial.code} ${dial.err.slice(0, 200)}`);
    }

    // Assess
    expect(sample).toHaveLength(10);
    expect(wrong).toEqual([]);
  }, 180_000);
});
