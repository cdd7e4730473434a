import { processTree, sampleTree, type ProcessUsage, type TreeSample } from './process-usage.js';

/**
 * What a process tree used over an interval, from samples of /proc (see `process-usage.ts`): its CPU cores on average
 * and at peak, its PSS at the end, highest and on average, and each process's share.
 */

/** One process's share of a measured interval. */
export interface ProcessShare {
  readonly pid: number;
  readonly comm: string;
  /**
   * `throughout`: in the first and the last sample; `started`: appeared after the first sample; `ended`: absent from
   * the last sample; `started-and-ended`: seen only in samples between.
   */
  readonly presence: 'throughout' | 'started' | 'ended' | 'started-and-ended';
  /** CPU time of the process itself within the interval, in seconds (see `UsageMeter` for what is counted). */
  readonly cpuSeconds: number;
  /** CPU time within the interval of its children that ended and were reaped by it, in seconds. */
  readonly reapedCpuSeconds: number;
  /** PSS in the last sample it was seen in, in bytes. */
  readonly pssBytes: number;
}

/** What a `UsageMeter` measured. */
export interface UsageReport {
  readonly wallSeconds: number;
  /** CPU time of the tree within the interval, in seconds. */
  readonly cpuSeconds: number;
  /** Average CPU cores used: cpuSeconds / wallSeconds. */
  readonly cores: number;
  /**
   * Highest average over one period between two consecutive samples (periods shorter than half the sampling period
   * left out), and never below `cores`; equal to `cores` without `sampleEvery`.
   */
  readonly peakCores: number;
  /** PSS of the tree at the end sample, in bytes. */
  readonly pssBytes: number;
  /** RSS summed over the tree at the end sample, in bytes (counts shared pages once per process). */
  readonly rssBytes: number;
  /** Highest PSS over all samples (start, periodic, end), in bytes. */
  readonly maxPssBytes: number;
  /** Mean PSS over all samples (start, periodic, end), in bytes. */
  readonly meanPssBytes: number;
  /** Number of samples taken, start and end included. */
  readonly samples: number;
  /** Every process seen, the most CPU first. */
  readonly processes: readonly ProcessShare[];
}

/**
 * Measures a process tree over an interval: average CPU cores, PSS at the end, and (with `sampleEvery`) the highest and
 * mean PSS.
 *
 * ```ts
 * const meter = await UsageMeter.start(worker.pid);   // start sample
 * meter.sampleEvery(1000);                            // optional
 * await steadyMinute();
 * const usage = await meter.stop();                   // end sample: usage.cores, usage.pssBytes
 * ```
 *
 * Which processes count: at each sample, the root and its descendants at that moment, plus every process seen in an
 * earlier sample that still runs (so a process re-parented away from the tree stays measured).
 *
 * How CPU time within the interval is counted, between each two consecutive samples:
 * - a process in both: what it used between them;
 * - a process that appeared: all it used since it started (it is taken to have started within the interval);
 * - a process that ended: its time after the earlier sample is recovered from its parent's reaped-children time when
 *   the parent is measured and waited for it (Node and Chromium do); if its parent is not measured, that time is lost
 *   (an undercount of at most one sampling period's worth, so sample often when processes come and go);
 * - a process that both started and ended between two samples and was reaped by a measured parent counts in full.
 * A parent that ignores SIGCHLD (children reaped automatically) gets no reaped time: its ended children then count
 * only up to the last sample that saw them.
 */
export class UsageMeter {
  private readonly rootPid: number;
  private readonly first: TreeSample;
  private last: TreeSample;
  private readonly shares = new Map<string, MutableShare>();
  /**
   * Per parent: CPU time of its ended children that is counted already and that its reaped time will repeat, and
   * reaped time it gained that no ended child has matched yet. The two can show up in different periods (a sample may
   * read a child just before its parent reaped it, and the parent just after), so they are matched across periods.
   */
  private readonly goneUnmatched = new Map<string, number>();
  private readonly reapedUnmatched = new Map<string, number>();
  private readonly pssSamples: number[] = [];
  private peakCores = 0;
  private periodMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> | undefined;
  private failure: unknown;
  private stopped = false;

  private constructor(rootPid: number, first: TreeSample) {
    this.rootPid = rootPid;
    this.first = first;
    this.last = first;
    this.pssSamples.push(first.total.pssBytes);
    for (const usage of first.processes) this.shares.set(keyOf(usage), newShare(usage, true));
  }

  /**
   * Takes the start sample of `rootPid` and its descendants.
   *
   * @throws Error when the root process does not exist.
   */
  static async start(rootPid: number): Promise<UsageMeter> {
    const first = await sampleTree(await processTree(rootPid));
    if (!first.processes.some((p) => p.pid === rootPid)) throw new Error(`cannot measure process ${rootPid}: it does not exist`);
    return new UsageMeter(rootPid, first);
  }

  /**
   * Also samples every `ms` milliseconds until `stop`, for the highest and mean PSS and the peak CPU. A sample still
   * being read when the next is due makes that one skip.
   *
   * @throws Error when called twice, after `stop`, or with a period under 10 ms.
   */
  sampleEvery(ms: number): this {
    if (!(ms >= 10)) throw new Error(`sampleEvery needs a period of at least 10 ms, got ${ms}`);
    if (this.timer !== undefined || this.stopped) throw new Error('sampleEvery: the meter is already sampling or stopped');
    this.periodMs = ms;
    this.timer = setInterval(() => {
      if (this.pending !== undefined) return;
      this.pending = this.take()
        .catch((error: unknown) => {
          this.failure ??= error;
        })
        .finally(() => {
          this.pending = undefined;
        });
    }, ms);
    this.timer.unref();
    return this;
  }

  /**
   * Takes the end sample (re-walking the tree to include processes started since) and reports the interval.
   *
   * @throws Error when the root process ended before the end sample, when a periodic sample failed, or when called twice.
   */
  async stop(): Promise<UsageReport> {
    if (this.stopped) throw new Error('UsageMeter.stop was already called');
    this.stopped = true;
    clearInterval(this.timer);
    await this.pending;
    if (this.failure !== undefined) throw this.failure;
    await this.take();
    if (!this.last.processes.some((p) => p.pid === this.rootPid && p.startTicks === this.rootStart())) {
      throw new Error(`process ${this.rootPid} ended before the end sample: measure a process that lives through the interval`);
    }
    const wallSeconds = (this.last.atMs - this.first.atMs) / 1000;
    const processes = [...this.shares.values()]
      .map((share): ProcessShare => ({
        pid: share.pid,
        comm: share.comm,
        presence: presenceOf(share.inFirst, share.lastSeen === this.last),
        cpuSeconds: share.cpuSeconds,
        reapedCpuSeconds: share.reapedCpuSeconds,
        pssBytes: share.pssBytes,
      }))
      .sort((a, b) => b.cpuSeconds + b.reapedCpuSeconds - (a.cpuSeconds + a.reapedCpuSeconds));
    const cpuSeconds = processes.reduce((sum, p) => sum + p.cpuSeconds + p.reapedCpuSeconds, 0);
    const cores = wallSeconds > 0 ? cpuSeconds / wallSeconds : 0;
    return {
      wallSeconds,
      cpuSeconds,
      cores,
      peakCores: Math.max(this.peakCores, cores),
      pssBytes: this.last.total.pssBytes,
      rssBytes: this.last.total.rssBytes,
      maxPssBytes: this.pssSamples.reduce((max, v) => Math.max(max, v), 0),
      meanPssBytes: this.pssSamples.reduce((sum, v) => sum + v, 0) / this.pssSamples.length,
      samples: this.pssSamples.length,
      processes,
    };
  }

  private rootStart(): number | undefined {
    return this.first.processes.find((p) => p.pid === this.rootPid)?.startTicks;
  }

  private async take(): Promise<void> {
    const tree = await processTree(this.rootPid);
    const known = this.last.processes.filter((p) => !tree.includes(p.pid));
    const sample = await sampleTree([...tree, ...known.map((p) => p.pid)]);
    // a known pid now held by another process is not ours; a new tree member is
    const knownStart = new Map(known.map((p) => [p.pid, p.startTicks]));
    const processes = sample.processes.filter((p) => !knownStart.has(p.pid) || knownStart.get(p.pid) === p.startTicks);
    const next: TreeSample = processes.length === sample.processes.length ? sample : { ...sample, processes, total: totalOf(processes) };
    this.account(this.last, next);
    this.last = next;
    this.pssSamples.push(next.total.pssBytes);
  }

  /** Adds the CPU time used between two consecutive samples to each process's share. */
  private account(before: TreeSample, after: TreeSample): void {
    const beforeByKey = new Map(before.processes.map((p) => [keyOf(p), p]));
    const afterByKey = new Map(after.processes.map((p) => [keyOf(p), p]));
    const beforeByPid = new Map(before.processes.map((p) => [p.pid, p]));
    let periodCpu = 0;
    const reapedInPeriod = new Map<string, number>();
    for (const [key, now] of afterByKey) {
      const then = beforeByKey.get(key);
      const share = this.shares.get(key) ?? newShare(now, false);
      this.shares.set(key, share);
      const cpu = now.cpuSeconds - (then?.cpuSeconds ?? 0);
      const reaped = now.reapedCpuSeconds - (then?.reapedCpuSeconds ?? 0);
      share.cpuSeconds += cpu;
      share.reapedCpuSeconds += reaped;
      reapedInPeriod.set(key, reaped);
      share.pssBytes = now.pssBytes;
      share.lastSeen = after;
      periodCpu += cpu + reaped;
    }
    // a process that ended: the reaped time of the parent that waited for it holds all it ever used, of which what it
    // had used by the last sample that saw it is counted already
    for (const [key, gone] of beforeByKey) {
      if (afterByKey.has(key)) continue;
      const parent = beforeByPid.get(gone.ppid);
      if (parent === undefined || !afterByKey.has(keyOf(parent))) continue;
      const parentKey = keyOf(parent);
      this.goneUnmatched.set(parentKey, (this.goneUnmatched.get(parentKey) ?? 0) + gone.cpuSeconds + gone.reapedCpuSeconds);
    }
    for (const [parentKey, reaped] of reapedInPeriod) {
      if (reaped > 0) this.reapedUnmatched.set(parentKey, (this.reapedUnmatched.get(parentKey) ?? 0) + reaped);
    }
    for (const [parentKey, counted] of this.goneUnmatched) {
      // a parent that did not wait for its children (SIGCHLD ignored) gains no reaped time from them: take off no more
      // than it gained, so their time after the last sample is lost rather than their time before it
      const correction = Math.min(counted, this.reapedUnmatched.get(parentKey) ?? 0);
      if (correction <= 0) continue;
      this.goneUnmatched.set(parentKey, counted - correction);
      this.reapedUnmatched.set(parentKey, (this.reapedUnmatched.get(parentKey) ?? 0) - correction);
      this.shares.get(parentKey)!.reapedCpuSeconds -= correction;
      periodCpu -= correction;
    }
    // CPU times move in whole clock ticks (10 ms): a period much shorter than the sampling period (the last one, cut
    // short by stop) would make a noisy peak, so it does not count
    const ms = after.atMs - before.atMs;
    if (ms > 0 && (this.periodMs === undefined || ms >= this.periodMs / 2)) {
      this.peakCores = Math.max(this.peakCores, periodCpu / (ms / 1000));
    }
  }
}

interface MutableShare {
  readonly pid: number;
  readonly comm: string;
  readonly inFirst: boolean;
  cpuSeconds: number;
  reapedCpuSeconds: number;
  pssBytes: number;
  lastSeen: TreeSample | undefined;
}

function newShare(usage: ProcessUsage, inFirst: boolean): MutableShare {
  return { pid: usage.pid, comm: usage.comm, inFirst, cpuSeconds: 0, reapedCpuSeconds: 0, pssBytes: usage.pssBytes, lastSeen: undefined };
}

function presenceOf(inFirst: boolean, inLast: boolean): ProcessShare['presence'] {
  if (inFirst) return inLast ? 'throughout' : 'ended';
  return inLast ? 'started' : 'started-and-ended';
}

function keyOf(usage: { readonly pid: number; readonly startTicks: number }): string {
  return `${usage.pid}@${usage.startTicks}`;
}

function totalOf(processes: readonly ProcessUsage[]): TreeSample['total'] {
  return {
    cpuSeconds: processes.reduce((sum, p) => sum + p.cpuSeconds, 0),
    pssBytes: processes.reduce((sum, p) => sum + p.pssBytes, 0),
    rssBytes: processes.reduce((sum, p) => sum + p.rssBytes, 0),
  };
}
