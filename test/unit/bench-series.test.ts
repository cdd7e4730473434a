import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { roleFromArgs } from '../../bench/lib/process-usage.js';
import type { ClickDelay, DelayEstimate } from '../../bench/lib/signals.js';
import { UsageMeter, type UsageReport } from '../../bench/lib/usage-meter.js';
import { cpuSeries, delaySeries, legQuality, SeriesRecorder } from '../../bench/plots/series.js';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function estimate(delaysMs: readonly (number | undefined)[]): DelayEstimate {
  const clicks: ClickDelay[] = delaysMs.map((ms, index) => ({
    index,
    expectedS: index,
    status: ms === undefined ? 'missing' : 'found',
    delayS: ms === undefined ? undefined : ms / 1000,
    score: ms === undefined ? 0.1 : 0.95,
  }));
  const found = delaysMs.filter((d) => d !== undefined).length;
  return { clicks, found, missing: clicks.length - found, outside: 0, medianS: undefined, p95S: undefined, minS: undefined, maxS: undefined };
}

describe('the series a result keeps for its plots', () => {
  it('names a process by what its command line says it is', () => {
    expect(roleFromArgs(['/usr/lib/chromium/chromium', '--type=renderer', '--lang=en-US'])).toBe('renderer');
    expect(roleFromArgs(['/usr/lib/chromium/chromium', '--type=utility', '--utility-sub-type=audio.mojom.AudioService'])).toBe('utility: audio');
    expect(roleFromArgs(['/usr/lib/chromium/chromium', '--headless', '--user-data-dir=/x', '--remote-debugging-pipe'])).toBe('browser');
    expect(roleFromArgs(['/usr/bin/node', '--enable-source-maps', '/srv/roomline/bin/roomline.mjs', 'worker'])).toBe('roomline.mjs');
    expect(roleFromArgs([])).toBe('');
    // a zygote child's rewritten command line: one string, its arguments joined by spaces
    expect(roleFromArgs(['/usr/lib/chromium/chromium --type=renderer --user-data-dir=/tmp/x/profile --change-stack-guard-on-fork=enable'])).toBe('renderer');
    expect(roleFromArgs(['/usr/bin/node', '-e', "\nconst net = require('node:net');\n"])).toBe('inline script');
  });

  it('keeps each found click in order, and the calibration less its known delay', () => {
    const series = delaySeries({ roomToPhone: estimate([120, undefined, 126]), phoneToRoom: estimate([]), calibrated: estimate([231]) }, 100);
    expect(series).toEqual({
      knownDelayMs: 100,
      trains: {
        roomToPhone: [
          { click: 0, delayMs: 120 },
          { click: 2, delayMs: 126 },
        ],
        phoneToRoom: [],
        calibration: [{ click: 0, delayMs: 131 }],
      },
    });
    expect(delaySeries({ roomToPhone: undefined, phoneToRoom: undefined, calibrated: undefined }, 100).trains).toEqual({});
  });

  it('names CPU lines by process and role, with the pid only where two would share a name', () => {
    const report = {
      timeline: [
        { pid: 10, comm: 'chromium', role: 'renderer', points: [[1.004, 0.123456]] },
        { pid: 11, comm: 'chromium', role: 'renderer', points: [[1, 0.01]] },
        { pid: 12, comm: 'node', role: 'node', points: [[1, 0.02]] },
        { pid: 13, comm: 'chromium', role: 'zygote', points: [] },
      ],
    } as unknown as UsageReport;
    expect(cpuSeries(report)).toEqual([
      { process: 'chromium: renderer (10)', points: [[1, 0.1235]] },
      { process: 'chromium: renderer (11)', points: [[1, 0.01]] },
      { process: 'node', points: [[1, 0.02]] },
    ]);
  });

  it('turns counter growth into loss and concealment percentages; no packets counts as all lost', () => {
    expect(legQuality({ packets: 990, lost: 10, samples: 48_000, concealed: 480 })).toEqual({ lossPercent: 1, concealedPercent: 1 });
    expect(legQuality({ packets: 0, lost: 0, samples: 0, concealed: 0 })).toEqual({ lossPercent: 100, concealedPercent: 100 });
  });

  it('keeps only what the run measured', () => {
    const recorder = new SeriesRecorder();
    expect(recorder.toJson()).toEqual({});
    recorder.setup('warm', { roomline: [{ invite: 900 }], direct: [{ invite: 100 }] });
    recorder.density([{ variant: 'forwarded', calls: 2, sip: { lossPercent: 0, concealedPercent: 0 } }]);
    recorder.density([{ variant: 'forwarded', calls: 4 }]);
    recorder.cpu({ roomline: undefined, direct: undefined });
    expect(recorder.toJson()).toEqual({
      setup: { warm: { roomline: [{ invite: 900 }], direct: [{ invite: 100 }] } },
      density: [
        { variant: 'forwarded', calls: 2, sip: { lossPercent: 0, concealedPercent: 0 } },
        { variant: 'forwarded', calls: 4 },
      ],
    });
  });

  it('the usage meter keeps a CPU timeline per process that adds up to the interval', { timeout: 60_000 }, async () => {
    // a child that, once told, burns CPU for a while, then idles
    const child = spawn(process.execPath, [
      '-e',
      "process.stdin.once('data', () => { const t = Date.now(); while (Date.now() - t < 600) {} }); process.stdin.resume(); console.log('ready');",
    ]);
    children.push(child);
    await once(child.stdout!, 'data');
    const meter = await UsageMeter.start(child.pid!);
    meter.sampleEvery(200);
    child.stdin!.write('go\n');
    await delay(2_000);
    const usage = await meter.stop();
    const line = usage.timeline.find((p) => p.pid === child.pid);
    expect(line?.comm).toBe('node');
    expect(line?.points.length).toBeGreaterThanOrEqual(3);
    const times = line!.points.map(([t]) => t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // the sum of cores × period is the CPU time counted for the interval
    let previous = 0;
    let cpu = 0;
    for (const [t, cores] of line!.points) {
      cpu += cores * (t - previous);
      previous = t;
    }
    const share = usage.processes.find((p) => p.pid === child.pid)!;
    expect(cpu).toBeCloseTo(share.cpuSeconds + share.reapedCpuSeconds, 1);
    // busy first, idle at the end
    expect(line!.points[0]![1]).toBeGreaterThan(line!.points.at(-1)![1]);
  });
});
