import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clockTicksPerSecond,
  parseProcStat,
  processTree,
  sampleThreads,
  sampleTree,
  threadCpuBetween,
} from '../../bench/lib/process-usage.js';
import { UsageMeter } from '../../bench/lib/usage-meter.js';

/** Node code that burns `ms` of its own CPU time (not wall time, so a busy machine only makes it slower). */
const burn = (ms: number) => `{ const until = ${ms * 1000}; const t0 = process.cpuUsage(); while (true) { const u = process.cpuUsage(t0); if (u.user + u.system >= until) break; } }`;

const children: ChildProcess[] = [];
let scratch = '';

function start(command: string, args: readonly string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

/** Resolves with the first stdout line of `child` that starts with `prefix`. */
async function line(child: ChildProcess, prefix: string): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  try {
    for await (const text of lines) if (text.startsWith(prefix)) return text;
  } finally {
    lines.close();
  }
  throw new Error(`child ended before printing "${prefix}"`);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bench-usage-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    // descendants first, so that none is left behind re-parented
    for (const pid of (await processTree(child.pid!)).toReversed()) process.kill(pid, 'SIGKILL');
    await exited;
  }
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('process usage from /proc', () => {
  it('parses a stat line whose process name holds spaces and parentheses', () => {
    const fields = 'S 42 7 7 0 -1 4194304 101 0 0 0 250 30 1000 7 20 0 1 0 123456 3133440 408';

    const stat = parseProcStat(`4321 (a) (b c) ) ${fields}`);

    expect(stat).toEqual({ pid: 4321, comm: 'a) (b c) ', state: 'S', ppid: 42, cpuTicks: 280, reapedCpuTicks: 1007, startTicks: 123456 });
    expect(() => parseProcStat('4321 no name here')).toThrow(/not a \/proc stat line/);
  });

  it('reads the clock tick rate once from getconf', () => {
    expect(clockTicksPerSecond()).toBeGreaterThanOrEqual(100);
    expect(clockTicksPerSecond()).toBe(clockTicksPerSecond());
  });

  it('finds children and grandchildren, even one whose name has spaces and parentheses', async () => {
    const oddName = join(scratch, 'sl) (eep x');
    await copyFile('/bin/sleep', oddName);
    const shell = start('sh', ['-c', '"$0" 30 & echo started; wait', oddName]);
    await line(shell, 'started');

    const tree = await processTree(process.pid);
    const shellTree = await processTree(shell.pid!);
    const sample = await sampleTree(shellTree);

    expect(tree[0]).toBe(process.pid);
    expect(tree).toContain(shell.pid);
    expect(shellTree).toHaveLength(2);
    expect(tree).toContain(shellTree[1]);
    expect(sample.processes.map((p) => p.comm)).toEqual(['sh', 'sl) (eep x']);
    expect(sample.processes[1]!.ppid).toBe(shell.pid);
  });

  it('gives no tree for a process that does not exist', async () => {
    expect(await processTree(2 ** 22 + 1)).toEqual([]);
  });

  it('samples CPU time and memory of this process, with PSS above 0 and at most RSS, skipping a missing pid', async () => {
    const sample = await sampleTree([process.pid, 2 ** 22 + 1]);

    expect(sample.processes).toHaveLength(1);
    const self = sample.processes[0]!;
    expect(self.pid).toBe(process.pid);
    expect(self.cpuSeconds).toBeGreaterThan(0);
    expect(self.pssBytes).toBeGreaterThan(1024 * 1024);
    expect(self.pssBytes).toBeLessThanOrEqual(self.rssBytes);
    expect(sample.total).toEqual({ cpuSeconds: self.cpuSeconds, pssBytes: self.pssBytes, rssBytes: self.rssBytes });
  });

  it('measures a child that burns CPU as most of a core, with its memory at the end', async () => {
    const child = start(process.execPath, [
      '-e',
      `console.log('ready'); process.stdin.once('data', () => { ${burn(300)}; console.log('done'); }); process.stdin.resume();`,
    ]);
    await line(child, 'ready');
    const meter = await UsageMeter.start(child.pid!);

    child.stdin!.write('go\n');
    await line(child, 'done');
    const usage = await meter.stop();

    expect(usage.cpuSeconds).toBeGreaterThanOrEqual(0.28);
    // cores is CPU time over wall time (wall time stretches when other tests load the machine)
    expect(usage.cores).toBeCloseTo(usage.cpuSeconds / usage.wallSeconds, 5);
    expect(usage.peakCores).toBe(usage.cores);
    expect(usage.pssBytes).toBeGreaterThan(0);
    expect(usage.pssBytes).toBeLessThanOrEqual(usage.rssBytes);
    expect(usage.samples).toBe(2);
    expect(usage.processes).toMatchObject([{ pid: child.pid, presence: 'throughout' }]);
  });

  it('measures an idle child as about no CPU', async () => {
    const child = start('sleep', ['30']);
    const meter = await UsageMeter.start(child.pid!);

    await delay(300);
    const usage = await meter.stop();

    expect(usage.wallSeconds).toBeGreaterThanOrEqual(0.29);
    expect(usage.cores).toBeLessThan(0.05);
    expect(usage.pssBytes).toBeGreaterThan(0);
  });

  it('counts a process started and ended within the interval once, through its parent that waited for it', async () => {
    const parent = start(process.execPath, [
      '-e',
      `const { spawn } = require('node:child_process');
       console.log('ready');
       process.stdin.once('data', () => {
         const burner = spawn(process.execPath, ['-e', ${JSON.stringify(`${burn(300)}; const u = process.cpuUsage(); console.log((u.user + u.system) / 1e6)`)}], { stdio: ['ignore', 'pipe', 'inherit'] });
         let out = '';
         burner.stdout.on('data', (d) => { out += d; });
         burner.on('spawn', () => console.log('burner ' + burner.pid));
         burner.on('exit', () => console.log('reaped ' + out.trim()));
       });
       process.stdin.resume();`,
    ]);
    await line(parent, 'ready');
    const meter = await UsageMeter.start(parent.pid!);
    meter.sampleEvery(50);

    parent.stdin!.write('go\n');
    const burnerPid = Number((await line(parent, 'burner ')).split(' ')[1]);
    const burnerCpu = Number((await line(parent, 'reaped ')).split(' ')[1]);
    const usage = await meter.stop();

    // all the burner used (it reported it just before exiting), plus a little of the parent's own: not twice, not lost
    expect(burnerCpu).toBeGreaterThanOrEqual(0.3);
    expect(usage.cpuSeconds).toBeGreaterThan(burnerCpu - 0.03);
    expect(usage.cpuSeconds).toBeLessThan(burnerCpu + 0.2);
    expect(usage.samples).toBeGreaterThan(3);
    expect(usage.maxPssBytes).toBeGreaterThanOrEqual(usage.meanPssBytes);
    expect(usage.meanPssBytes).toBeGreaterThan(0);
    expect(usage.peakCores).toBeGreaterThanOrEqual(usage.cores);
    // seen by the periodic samples while it ran; the rest of its time came through its parent's reaped time
    const burner = usage.processes.find((p) => p.pid === burnerPid);
    expect(burner?.presence).toBe('started-and-ended');
    expect(burner!.cpuSeconds).toBeGreaterThan(0.1);
    expect(usage.processes.find((p) => p.pid === parent.pid)?.reapedCpuSeconds).toBeGreaterThanOrEqual(0);
  });

  it('refuses to report when the measured process ended before the end sample', async () => {
    const child = start('sleep', ['30']);
    const meter = await UsageMeter.start(child.pid!);
    child.kill('SIGKILL');
    await once(child, 'exit');

    await expect(meter.stop()).rejects.toThrow(/ended before the end sample/);
    await expect(UsageMeter.start(child.pid!)).rejects.toThrow(/does not exist/);
  });

  it('tells which thread used the CPU', async () => {
    const before = await sampleThreads(process.pid);
    new Function(burn(200))();
    const busiest = threadCpuBetween(before, await sampleThreads(process.pid))[0];

    expect(before.length).toBeGreaterThan(1);
    // the burn counts the whole process's CPU (its other threads too) and /proc counts in 10 ms ticks: at least half
    // of it is the main thread's
    expect(busiest?.cpuSeconds).toBeGreaterThanOrEqual(0.1);
    expect(busiest?.name.length).toBeGreaterThan(0);
  });
});
