import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/**
 * CPU and memory used by a process tree on Linux at one moment, read from /proc: what one bridged call costs (the
 * worker, Chromium and every Chromium child process). `UsageMeter` (usage-meter.ts) measures an interval from them.
 *
 * CPU time comes from /proc/<pid>/stat (utime + stime, in clock ticks), memory from /proc/<pid>/smaps_rollup (PSS:
 * each page divided among the processes sharing it, so the PSS of a tree adds up without counting shared libraries
 * and Chromium's shared memory several times; RSS counts them in each process). Processes that vanish while a sample
 * is read are left out of that sample.
 */

/** One line of /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat), the fields the benchmark uses. */
export interface ProcStat {
  readonly pid: number;
  /** Executable or thread name, at most 15 characters; may contain spaces and parentheses. */
  readonly comm: string;
  /** R, S, D, Z, T... */
  readonly state: string;
  readonly ppid: number;
  /** User + system CPU time of the process itself (all its threads), in clock ticks. */
  readonly cpuTicks: number;
  /** User + system CPU time of its children that ended and that it waited for, in clock ticks. */
  readonly reapedCpuTicks: number;
  /** When the process started, in clock ticks after boot: with `pid`, tells a process from a later one reusing its pid. */
  readonly startTicks: number;
}

/** One process in a sample. */
export interface ProcessUsage {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly startTicks: number;
  /** CPU time of the process itself since it started, in seconds. */
  readonly cpuSeconds: number;
  /** CPU time of its ended and reaped children, in seconds. */
  readonly reapedCpuSeconds: number;
  /** Proportional set size, in bytes (0 for a zombie). */
  readonly pssBytes: number;
  /** Resident set size, in bytes (0 for a zombie). */
  readonly rssBytes: number;
}

/** A reading of a set of processes at one moment. */
export interface TreeSample {
  /** When it was read (`performance.now()` at the middle of the reading), in milliseconds. */
  readonly atMs: number;
  readonly processes: readonly ProcessUsage[];
  readonly total: {
    /** CPU time of the processes themselves since each started, in seconds. */
    readonly cpuSeconds: number;
    readonly pssBytes: number;
    readonly rssBytes: number;
  };
}

/** One thread of a process and the CPU time it used since it started. */
export interface ThreadUsage {
  readonly tid: number;
  /** Thread name (Chromium names its threads, e.g. `AudioOutputDevi`, truncated to 15 characters). */
  readonly name: string;
  readonly cpuSeconds: number;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc CPU times (`getconf CLK_TCK`, read once; 100 when getconf is unavailable). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    let value = Number.NaN;
    try {
      value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      // no getconf: fall through to the Linux default
    }
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/**
 * Parses one /proc/<pid>/stat line. The name (field 2) is everything between the first `(` and the last `)`, since a
 * process may name itself with spaces and parentheses.
 *
 * @throws Error when the line is not in /proc stat format.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  const rest = close > open && open > 0 ? line.slice(close + 2).trim().split(/\s+/) : [];
  // fields after the name start at field 3 (state): utime is field 14, starttime field 22
  const field = (n: number): number => Number(rest[n - 3]);
  const pid = Number(line.slice(0, open).trim());
  const parsed = {
    pid,
    comm: line.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: field(4),
    cpuTicks: field(14) + field(15),
    reapedCpuTicks: field(16) + field(17),
    startTicks: field(22),
  };
  const numbers = [parsed.pid, parsed.ppid, parsed.cpuTicks, parsed.reapedCpuTicks, parsed.startTicks];
  if (rest.length < 20 || !numbers.every(Number.isInteger)) {
    throw new Error(`not a /proc stat line: ${JSON.stringify(line.slice(0, 120))}`);
  }
  return parsed;
}

/**
 * The pids of `rootPid` and all its descendants (children, their children...), root first, found by walking the
 * parent pid of every process in /proc. Empty when the root does not exist.
 */
export async function processTree(rootPid: number): Promise<readonly number[]> {
  const entries = await readdir('/proc');
  const stats = await Promise.all(entries.filter((name) => /^\d+$/.test(name)).map((name) => readStat(Number(name))));
  const children = new Map<number, number[]>();
  let rootSeen = false;
  for (const stat of stats) {
    if (stat === undefined) continue;
    if (stat.pid === rootPid) rootSeen = true;
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat.pid]);
    else siblings.push(stat.pid);
  }
  if (!rootSeen) return [];
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const child of children.get(tree[i]!) ?? []) if (!tree.includes(child)) tree.push(child);
  }
  return tree;
}

/**
 * Reads CPU time, PSS and RSS of each of `pids`, and their totals. Processes that no longer exist are left out; a
 * zombie counts with its CPU time and no memory.
 *
 * @throws Error when /proc/<pid>/smaps_rollup cannot be read for lack of permission (measure processes of the same
 * user, or as root), or on a kernel older than 4.14 that has no smaps_rollup.
 */
export async function sampleTree(pids: readonly number[]): Promise<TreeSample> {
  const ticks = clockTicksPerSecond();
  const before = performance.now();
  const read = await Promise.all([...new Set(pids)].map((pid) => readUsage(pid, ticks)));
  const atMs = (before + performance.now()) / 2;
  const processes = read.filter((usage): usage is ProcessUsage => usage !== undefined);
  let cpuSeconds = 0;
  let pssBytes = 0;
  let rssBytes = 0;
  for (const usage of processes) {
    cpuSeconds += usage.cpuSeconds;
    pssBytes += usage.pssBytes;
    rssBytes += usage.rssBytes;
  }
  return { atMs, processes, total: { cpuSeconds, pssBytes, rssBytes } };
}

/**
 * CPU time of each thread of `pid`, the busiest first: which thread bounds a figure. Take two readings and subtract
 * with `threadCpuBetween`. Empty when the process does not exist.
 */
export async function sampleThreads(pid: number): Promise<readonly ThreadUsage[]> {
  let tids: string[];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch (error) {
    if (isGone(error)) return [];
    throw error;
  }
  const ticks = clockTicksPerSecond();
  const threads = await Promise.all(
    tids.map(async (tid): Promise<ThreadUsage | undefined> => {
      const stat = await readStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
      return stat === undefined ? undefined : { tid: stat.pid, name: stat.comm, cpuSeconds: stat.cpuTicks / ticks };
    }),
  );
  return threads.filter((t): t is ThreadUsage => t !== undefined).sort((a, b) => b.cpuSeconds - a.cpuSeconds);
}

/** CPU time each thread used between two `sampleThreads` readings of the same process, the busiest first. */
export function threadCpuBetween(before: readonly ThreadUsage[], after: readonly ThreadUsage[]): readonly ThreadUsage[] {
  const start = new Map(before.map((t) => [t.tid, t.cpuSeconds]));
  return after
    .map((t) => ({ tid: t.tid, name: t.name, cpuSeconds: t.cpuSeconds - (start.get(t.tid) ?? 0) }))
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds);
}

/**
 * What a process is, from its command line: Chromium's `--type` (`renderer`, `gpu-process`, `zygote`, a utility's
 * service, e.g. `utility: audio`), `browser` for a Chromium without one, else the file name of the script or program.
 * Empty when the process has ended or its command line cannot be read.
 */
export async function processRole(pid: number): Promise<string> {
  const args = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (text) => text.split('\0').filter((a) => a !== ''),
    () => [] as string[],
  );
  return roleFromArgs(args);
}

/**
 * The role `processRole` reads from a command line's arguments. Chromium's zygote children rewrite their command line
 * as one string (a process title: the arguments joined by spaces), which is split again here.
 */
export function roleFromArgs(commandLine: readonly string[]): string {
  const title = commandLine.length === 1 ? commandLine[0]! : '';
  const args = title.includes(' --') ? title.split(' ').filter((a) => a !== '') : commandLine;
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const type = flag('type');
  if (type === 'utility') {
    const service = flag('utility-sub-type');
    return service === undefined ? 'utility' : `utility: ${service.split('.')[0]}`;
  }
  if (type !== undefined) return type;
  if (args.some((a) => a.startsWith('--remote-debugging') || a.startsWith('--user-data-dir='))) return 'browser';
  // a program run with its code inline (node -e) has no script to name
  if (args.includes('-e') || args.includes('--eval')) return 'inline script';
  const script = args.slice(1).find((a) => !a.startsWith('-'));
  return (script ?? args[0] ?? '').split('/').pop() ?? '';
}

async function readStat(pid: number, path = `/proc/${pid}/stat`): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(path, 'utf8'));
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

async function readUsage(pid: number, ticks: number): Promise<ProcessUsage | undefined> {
  const stat = await readStat(pid);
  if (stat === undefined) return undefined;
  let pssBytes = 0;
  let rssBytes = 0;
  try {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    pssBytes = kilobytesField(rollup, 'Pss') * 1024;
    rssBytes = kilobytesField(rollup, 'Rss') * 1024;
  } catch (error) {
    if (isPermission(error)) {
      throw new Error(`cannot read /proc/${pid}/smaps_rollup (${stat.comm}): measure processes of the same user, or as root`);
    }
    if (!isGone(error)) throw error;
    // a zombie has no memory left to read; any other process has just ended, unless the kernel has no smaps_rollup
    if (stat.state !== 'Z') {
      const again = await readStat(pid);
      if (again !== undefined && again.startTicks === stat.startTicks && again.state !== 'Z') {
        throw new Error(`/proc/${pid}/smaps_rollup is missing: measuring PSS needs Linux 4.14 or later`);
      }
      return undefined;
    }
  }
  return {
    pid,
    ppid: stat.ppid,
    comm: stat.comm,
    startTicks: stat.startTicks,
    cpuSeconds: stat.cpuTicks / ticks,
    reapedCpuSeconds: stat.reapedCpuTicks / ticks,
    pssBytes,
    rssBytes,
  };
}

function kilobytesField(rollup: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup);
  return match === null ? 0 : Number(match[1]);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function isGone(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ESRCH';
}

function isPermission(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EACCES' || code === 'EPERM';
}
