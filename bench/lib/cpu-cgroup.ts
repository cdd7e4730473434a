import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processTree } from './process-usage.js';

/**
 * A CPU budget for the processes of one bridge: a cgroup with a fixed CPU quota (cgroup v1: `cpu.cfs_quota_us` over
 * `cpu.cfs_period_us` in the `cpu` hierarchy; v2: `cpu.max`), and a launcher that starts a program inside it, so a
 * worker and every Chromium process it starts count against the budget while the lab (simulated people, Janus, the
 * phone) runs outside. Needs root.
 */

/** Which cgroup interface a machine offers. */
export type CgroupVersion = 'v1' | 'v2';

/** Throttling of the group since it was made: how often its processes wanted more than the quota. */
export interface ThrottleStats {
  /** Enforcement periods that have elapsed while the group had runnable processes. */
  readonly periods: number;
  /** Of those, the periods in which it was throttled. */
  readonly throttledPeriods: number;
  /** Time its processes were held back, in ms. */
  readonly throttledMs: number;
}

export interface CpuCgroupOptions {
  /** Name of the group (one path segment). */
  readonly name: string;
  /** CPU budget in cores (e.g. 1 for one vCPU, 0.5 for half). */
  readonly cores: number;
  /** The node binary the launcher runs (a worker is forked through it). */
  readonly nodePath: string;
  /** Folder for the launcher script. */
  readonly dir: string;
  /** Root of the cgroup file system. @default /sys/fs/cgroup */
  readonly root?: string;
}

/** Enforcement period written for the group, in µs (the kernel's default). */
const PERIOD_US = 100_000;

export class CpuCgroup {
  private constructor(
    readonly version: CgroupVersion,
    /** The group's folder. */
    readonly path: string,
    readonly cores: number,
    /** A script that moves itself into the group, then runs node with its arguments: a `fork` execPath. */
    readonly launcher: string,
  ) {}

  /** Which interface the cgroup file system at `root` offers, or undefined when it offers no CPU quota. */
  static versionAt(root = '/sys/fs/cgroup'): CgroupVersion | undefined {
    if (existsSync(join(root, 'cpu', 'cpu.cfs_quota_us'))) return 'v1';
    if (existsSync(join(root, 'cgroup.controllers'))) return 'v2';
    return undefined;
  }

  /**
   * Makes the group with its quota and writes its launcher.
   *
   * @throws Error when the machine offers no CPU quota, on a bad budget or name, or when the group cannot be made.
   */
  static async create(options: CpuCgroupOptions): Promise<CpuCgroup> {
    const root = options.root ?? '/sys/fs/cgroup';
    if (!(options.cores > 0 && options.cores <= 64)) throw new RangeError(`cores must be within (0, 64], got ${options.cores}`);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.name)) throw new RangeError(`bad cgroup name ${JSON.stringify(options.name)}`);
    const version = CpuCgroup.versionAt(root);
    if (version === undefined) throw new Error(`no CPU quota at ${root}: neither cgroup v1's cpu controller nor cgroup v2`);
    const quotaUs = Math.round(options.cores * PERIOD_US);
    let path: string;
    switch (version) {
      case 'v1':
        path = join(root, 'cpu', options.name);
        await mkdir(path, { recursive: true });
        await writeFile(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
        await writeFile(join(path, 'cpu.cfs_quota_us'), String(quotaUs));
        break;
      case 'v2':
        path = join(root, options.name);
        // the cpu controller must be on for the root's children (it may already be)
        await writeFile(join(root, 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
        await mkdir(path, { recursive: true });
        await writeFile(join(path, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
        break;
    }
    const launcher = join(options.dir, `in-cgroup-${options.name}.sh`);
    await writeFile(
      launcher,
      `#!/bin/sh\necho $$ > '${join(path, 'cgroup.procs')}' || exit 111\nexec '${options.nodePath}' "$@"\n`,
    );
    await chmod(launcher, 0o755);
    return new CpuCgroup(version, path, options.cores, launcher);
  }

  /** The pids now in the group. */
  async pids(): Promise<number[]> {
    const text = await readFile(join(this.path, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter((l) => l !== '').map(Number);
  }

  /** Moves a running process and its descendants into the group (what they start later is born inside). */
  async adopt(rootPid: number): Promise<void> {
    for (const pid of await processTree(rootPid)) {
      await writeFile(join(this.path, 'cgroup.procs'), String(pid)).catch(() => undefined);
    }
  }

  /** Throttling since the group was made (`cpu.stat`). */
  async throttling(): Promise<ThrottleStats> {
    return parseCpuStat(await readFile(join(this.path, 'cpu.stat'), 'utf8'));
  }

  /** Removes the group; its processes must have exited. */
  async remove(): Promise<void> {
    await rmdir(this.path);
  }
}

/** Throttling from the text of a `cpu.stat` file (v1: throttled_time in ns; v2: throttled_usec). */
export function parseCpuStat(text: string): ThrottleStats {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && value !== undefined) values.set(key, Number(value));
  }
  const throttledMs =
    values.get('throttled_usec') !== undefined ? values.get('throttled_usec')! / 1000 : (values.get('throttled_time') ?? 0) / 1e6;
  return { periods: values.get('nr_periods') ?? 0, throttledPeriods: values.get('nr_throttled') ?? 0, throttledMs };
}
