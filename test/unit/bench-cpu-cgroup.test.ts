import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpuCgroup, parseCpuStat } from '../../bench/lib/cpu-cgroup.js';

/** A stand-in cgroup file system in a temporary folder: only the files the class reads to tell the version. */
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgroup-root-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a CPU budget for the bridge processes', () => {
  it('makes a cgroup v1 group with a quota of one core over the default period, and a launcher that enters it', async () => {
    await mkdir(join(root, 'cpu'));
    await writeFile(join(root, 'cpu', 'cpu.cfs_quota_us'), '-1');

    const group = await CpuCgroup.create({ name: 'bench-1', cores: 1, nodePath: '/opt/node/bin/node', dir: root, root });

    expect(group.version).toBe('v1');
    expect(await readFile(join(root, 'cpu', 'bench-1', 'cpu.cfs_quota_us'), 'utf8')).toBe('100000');
    expect(await readFile(join(root, 'cpu', 'bench-1', 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    const launcher = await readFile(group.launcher, 'utf8');
    expect(launcher).toContain(`echo $$ > '${join(root, 'cpu', 'bench-1', 'cgroup.procs')}'`);
    expect(launcher).toContain(`exec '/opt/node/bin/node' "$@"`);
  });

  it('writes cpu.max on cgroup v2, half a core as 50000 of 100000 µs', async () => {
    await writeFile(join(root, 'cgroup.controllers'), 'cpu io memory pids');

    const group = await CpuCgroup.create({ name: 'bench-2', cores: 0.5, nodePath: '/usr/bin/node', dir: root, root });

    expect(group.version).toBe('v2');
    expect(await readFile(join(root, 'bench-2', 'cpu.max'), 'utf8')).toBe('50000 100000');
  });

  it('refuses a machine without a CPU quota, a bad budget and a name that is not one path segment', async () => {
    await expect(CpuCgroup.create({ name: 'x', cores: 1, nodePath: 'node', dir: root, root })).rejects.toThrow(/no CPU quota/);
    await expect(CpuCgroup.create({ name: 'x', cores: 0, nodePath: 'node', dir: root, root })).rejects.toThrow(/cores must be/);
    await expect(CpuCgroup.create({ name: '../up', cores: 1, nodePath: 'node', dir: root, root })).rejects.toThrow(/bad cgroup name/);
  });

  it('reads throttling from cpu.stat in both versions', () => {
    expect(parseCpuStat('nr_periods 120\nnr_throttled 30\nthrottled_time 2500000000\n')).toEqual({
      periods: 120,
      throttledPeriods: 30,
      throttledMs: 2500,
    });
    expect(parseCpuStat('usage_usec 1\nnr_periods 10\nnr_throttled 2\nthrottled_usec 4000\n')).toEqual({
      periods: 10,
      throttledPeriods: 2,
      throttledMs: 4,
    });
  });
});
