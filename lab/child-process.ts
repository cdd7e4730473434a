import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * One program the lab runs (Janus, baresip, Kamailio, a worker...): output to a log file, a promise for its exit, and
 * an idempotent stop that sends SIGTERM and, after a grace period, SIGKILL.
 */
export class LabProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly logFile: string | undefined;
  private readonly log: WriteStream | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(name: string, child: ChildProcess, log: WriteStream | undefined, logFile: string | undefined) {
    this.name = name;
    this.logFile = logFile;
    this.child = child;
    this.log = log;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: -1, signal: null }));
    });
  }

  static start(
    name: string,
    command: string,
    args: readonly string[],
    options: { logFile?: string; env?: NodeJS.ProcessEnv; cwd?: string; stdio?: SpawnOptions['stdio'] } = {},
  ): LabProcess {
    const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    if (log !== undefined) {
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
    } else {
      child.stdout?.resume();
      child.stderr?.resume();
    }
    return new LabProcess(name, child, log, options.logFile);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Throws if the process exits before `promise` settles: a lab part that dies while starting fails loudly. */
  async whileRunning<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([
      promise,
      this.exited.then(({ code, signal }) => {
        throw new Error(`${this.name} exited while starting (code ${code}, signal ${signal})`);
      }),
    ]);
  }

  stop(graceMs = 3_000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.running) {
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
        await this.exited;
        clearTimeout(timer);
      }
      if (this.log !== undefined) {
        this.log.end();
        await once(this.log, 'close').catch(() => undefined);
      }
    })();
    return this.stopping;
  }
}

/** Runs a command to completion, throwing with its output if it fails. */
export async function run(command: string, args: readonly string[]): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${code}): ${out.trim()}`);
  return out;
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
