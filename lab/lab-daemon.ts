import { spawn } from 'node:child_process';
import { openSync, closeSync, existsSync } from 'node:fs';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../worker/paths.js';
import { isAlive } from './child-process.js';
import { Lab, type LabEndpoints } from './lab.js';
import { waitUntil } from './wait.js';

/**
 * `roomline lab up | down | exec`: the lab as a background process. `up` starts `lab serve` detached and waits for
 * it to write its state file (endpoints); `down` stops it; `exec` runs a command with the lab's environment.
 */
const STATE_DIR = process.env['ROOMLINE_LAB_STATE_DIR'] ?? join(tmpdir(), 'roomline-lab-state');
const STATE_FILE = join(STATE_DIR, 'lab.json');
const LOG_FILE = join(STATE_DIR, 'lab.log');

interface LabState {
  readonly pid: number;
  readonly endpoints: LabEndpoints;
}

async function readState(): Promise<LabState | undefined> {
  if (!existsSync(STATE_FILE)) return undefined;
  const state = JSON.parse(await readFile(STATE_FILE, 'utf8')) as LabState;
  if (!isAlive(state.pid)) {
    await rm(STATE_FILE, { force: true });
    return undefined;
  }
  return state;
}

export async function labUp(options: { workers: number }): Promise<LabEndpoints> {
  const running = await readState();
  if (running !== undefined) return running.endpoints;
  await mkdir(STATE_DIR, { recursive: true });
  const log = openSync(LOG_FILE, 'a');
  const child = spawn(process.execPath, [cliPath(), 'lab', 'serve', '--workers', String(options.workers)], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  await waitUntil(async () => {
    if (exited !== undefined) throw new Error(`the lab failed to start (exit ${exited}); see ${LOG_FILE}`);
    return (await readState()) !== undefined;
  }, { timeoutMs: 120_000, what: `the lab to start (log: ${LOG_FILE})`, intervalMs: 250 });
  return (await readState())!.endpoints;
}

export async function labDown(): Promise<string> {
  const state = await readState();
  if (state === undefined) return 'no lab is running';
  process.kill(state.pid, 'SIGTERM');
  await waitUntil(() => !isAlive(state.pid), { timeoutMs: 30_000, what: 'the lab to stop' });
  await rm(STATE_FILE, { force: true });
  return `lab stopped (logs were in ${state.endpoints.dir})`;
}

export async function labExec(command: readonly string[]): Promise<number> {
  const state = await readState();
  if (state === undefined) throw new Error('no lab is running: start one with "roomline lab up"');
  const [program, ...args] = command;
  if (program === undefined) throw new Error('lab exec needs a command, e.g. roomline lab exec -- roomline status <callId>');
  const child = spawn(program, args, {
    stdio: 'inherit',
    env: { ...process.env, ...state.endpoints.env, ROOMLINE_LAB_ENDPOINTS: JSON.stringify(state.endpoints) },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

/** The lab in the foreground until SIGTERM/SIGINT: what `lab up` runs detached. */
export async function labServe(options: { workers: number }): Promise<void> {
  const lab = await Lab.start({ workers: options.workers, keepDir: true, dashboard: true });
  await mkdir(STATE_DIR, { recursive: true });
  const state: LabState = { pid: process.pid, endpoints: lab.endpoints };
  await writeFile(STATE_FILE, JSON.stringify(state, null, 2));
  process.stdout.write(`lab up: ${JSON.stringify(lab.endpoints)}\n`);
  process.stdout.write(`dashboard: ${lab.endpoints.dashboard ?? 'none'}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await lab.stop();
  await rm(STATE_FILE, { force: true });
}
