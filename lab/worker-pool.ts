import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../worker/paths.js';
import type { WorkerNotice } from '../worker/worker-notices.js';
import { waitUntil } from './wait.js';

export type WorkerState = 'starting' | 'ready' | 'busy' | 'exited';

/** Workers of a pool without replacement that may die during their warm-up and still be replaced. */
const MAX_FAILED_STARTS = 3;

export interface LabWorker {
  readonly index: number;
  readonly child: ChildProcess;
  state: WorkerState;
  warmMs?: number;
  /** The Janus node the worker's SIP leg uses (from its ready notice; a worker may reopen its session on another). */
  janusNode?: string;
  callId?: string;
  exitCode?: number | null;
  readonly logFile: string;
  readonly startedAt: number;
  readyAt?: number;
}

/**
 * The lab's stand-in for the ECS service: keeps `size` workers running, each a separate `roomline worker` process
 * that takes one call and exits, and starts a new one whenever one exits. Worker states come over IPC.
 */
export class WorkerPool {
  readonly workers: LabWorker[] = [];
  private running = true;
  private counter = 0;
  private failedStarts = 0;

  constructor(
    private readonly options: {
      size: number;
      env: NodeJS.ProcessEnv;
      dir: string;
      /** Names the pool's workers (`lab-<name>-<n>`) and their logs. @default "worker" */
      name?: string;
      /**
       * Start a new worker when one exits (as an ECS service does). Without, only a worker that died before it was warm
       * is replaced (at most three times). @default true
       */
      replace?: boolean;
      /**
       * Workers warming up at once; the others start as these become ready (many Chromiums starting together on few
       * cores take longer in all than in turns). @default all at once
       */
      startConcurrency?: number;
      cliArgs?: readonly string[];
      /** The program that runs each worker's node (e.g. a launcher that enters a cgroup first). @default this node */
      execPath?: string;
      /** Hears each line a worker writes to stdout (its EMF metrics and logs), beside the worker's log file. */
      onOutputLine?: (line: string) => void;
    },
  ) {
    const first = Math.min(options.size, options.startConcurrency ?? options.size);
    for (let i = 0; i < first; i++) this.spawn();
  }

  /** Starts another worker if the pool is short of its size (at most `startConcurrency` warming up at once). */
  private topUp(): void {
    if (!this.running) return;
    const starting = this.workers.filter((w) => w.state === 'starting').length;
    const limit = this.options.startConcurrency ?? Infinity;
    if (this.alive().length < this.options.size && starting < limit) this.spawn();
  }

  /** Workers alive now (not exited). */
  alive(): LabWorker[] {
    return this.workers.filter((w) => w.state !== 'exited');
  }

  /**
   * Waits until `count` workers are warm and idle. Two minutes: a sandboxed Chromium took 29 s to launch on a 2-core
   * machine at load 30, and three warming at once share those cores.
   */
  async waitReady(count = this.options.size, timeoutMs = 120_000): Promise<void> {
    await waitUntil(() => this.workers.filter((w) => w.state === 'ready').length >= count, {
      timeoutMs,
      what: `${count} warm worker(s) (logs in ${this.options.dir})`,
    });
  }

  /** Resizes the pool (more workers start at once; fewer means exited ones are not replaced). */
  resize(size: number): void {
    this.options.size = size;
    while (this.alive().length < size) this.spawn();
  }

  async stop(): Promise<void> {
    this.running = false;
    const alive = this.alive();
    for (const worker of alive) worker.child.kill('SIGTERM');
    await waitUntil(() => alive.every((w) => w.state === 'exited'), { timeoutMs: 15_000, what: 'workers to exit' }).catch(
      () => {
        for (const worker of alive) worker.child.kill('SIGKILL');
      },
    );
  }

  private spawn(): void {
    const index = ++this.counter;
    const name = this.options.name ?? 'worker';
    const logFile = join(this.options.dir, `${name}-${index}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = fork(cliPath(), ['worker', ...(this.options.cliArgs ?? [])], {
      ...(this.options.execPath === undefined ? {} : { execPath: this.options.execPath }),
      env: { ...this.options.env, ROOMLINE_WORKER_ID: `lab-${name}-${index}` },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const onLine = this.options.onOutputLine;
    if (onLine !== undefined) {
      let rest = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
    }
    const worker: LabWorker = { index, child, state: 'starting', logFile, startedAt: Date.now() };
    this.workers.push(worker);
    child.on('message', (message: WorkerNotice) => {
      if (message?.type !== 'roomline-worker') return;
      switch (message.state) {
        case 'ready':
          worker.state = 'ready';
          worker.warmMs = message.warmMs;
          worker.janusNode = message.janusNode;
          worker.readyAt = Date.now();
          this.topUp();
          break;
        case 'busy':
          worker.state = 'busy';
          worker.callId = message.callId;
          break;
        case 'done':
          break;
      }
    });
    child.on('exit', (code) => {
      const neverReady = worker.state === 'starting';
      worker.state = 'exited';
      worker.exitCode = code;
      log.end();
      if (!this.running || this.alive().length >= this.options.size) return;
      // a worker that died before it was warm is replaced even when used workers are not (a pool warmed for a batch of
      // calls must still get its size), a few times at most: warm-ups that keep failing are a fault to see, not to hide
      if (this.options.replace ?? true) this.spawn();
      else if (neverReady && this.failedStarts++ < MAX_FAILED_STARTS) this.spawn();
      else this.topUp();
    });
  }
}
