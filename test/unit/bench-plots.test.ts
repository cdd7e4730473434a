import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeFigures, resultsJson, type BenchResults } from '../../bench/lib/report.js';
import { plotFile, renderSvg, runCaption, writePlots } from '../../bench/plots/render.js';
import { NotABenchResult, parseBenchResult, readBenchResult } from '../../bench/plots/result-file.js';
import type { BenchSeries } from '../../bench/plots/series.js';
import { plotSpecs, type PlotId, type PlotSpec } from '../../bench/plots/specs.js';
import { allElements, parseXml, textsOfClass, type XmlElement } from '../support/xml.js';

/** A small hand-made run: 3 + 2 warm calls, one cold call each, a few clicks, two processes, two density levels. */
const series: BenchSeries = {
  setup: {
    warm: { roomline: [{ invite: 900 }, { invite: 1_000 }, { invite: 1_500 }], direct: [{ invite: 100 }, { invite: 130 }, {}] },
    cold: { roomline: [{ invite: 3_000 }], direct: [{ invite: 2_700 }] },
  },
  delay: {
    roomline: {
      knownDelayMs: 100,
      trains: {
        roomToPhone: [{ click: 0, delayMs: 120 }, { click: 1, delayMs: 126 }],
        phoneToRoom: [{ click: 0, delayMs: 104 }],
        calibration: [{ click: 0, delayMs: 131 }],
      },
    },
    direct: { knownDelayMs: 100, trains: { roomToPhone: [{ click: 0, delayMs: 63 }], phoneToRoom: [], calibration: [{ click: 0, delayMs: 64 }] } },
  },
  cpu: {
    roomline: [
      { process: 'chromium: renderer', points: [[1, 0.24], [2, 0.26]] },
      { process: 'node: roomline.mjs', points: [[1, 0.02], [2, 0.01]] },
    ],
    direct: [{ process: 'chromium: browser', points: [[1, 0.1], [2, 0.12]] }],
  },
  density: [
    { variant: 'forwarded', calls: 2, sip: { lossPercent: 0, concealedPercent: 0.1 }, room: { lossPercent: 0, concealedPercent: 0.3 } },
    { variant: 'forwarded', calls: 4, sip: { lossPercent: 0.4, concealedPercent: 3.2 }, room: { lossPercent: 0, concealedPercent: 0.2 } },
    { variant: 'direct call', calls: 2, sip: { lossPercent: 0, concealedPercent: 0 } },
  ],
};

const results: BenchResults = {
  version: 1,
  date: '2026-12-07T09:00:00.000Z',
  mode: 'quick',
  machine: { cpuModel: 'Example CPU', cores: 2, memoryBytes: 2 ** 33, kernel: 'Linux 6.1', distribution: undefined, node: 'v22.12.0', chromium: 'X' },
  figures: completeFigures({}, 'not in this example'),
  series,
};

const svgs = new Map<PlotId, XmlElement>();
let scratch = '';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'roomline-plots-'));
  for (const plot of plotSpecs(series, { run: runCaption(results) })) {
    if (plot.kind === 'spec') svgs.set(plot.id, parseXml(await renderSvg(plot.spec)));
  }
  // rendering starts Vega's dataflow, slow on a loaded machine
}, 90_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function svg(id: PlotId): XmlElement {
  const root = svgs.get(id);
  if (root === undefined) throw new Error(`no ${id} plot`);
  return root;
}

/** The data points of a mark layer, as their accessible labels (Vega labels each point with its fields). */
function pointLabels(root: XmlElement, markClass: string): string[] {
  return allElements(root)
    .filter((e) => (e.attributes['class'] ?? '').startsWith(`${markClass} role-mark`))
    .flatMap((g) => g.children.map((c) => c.attributes['aria-label'] ?? ''));
}

describe('benchmark plots from a hand-made result', () => {
  it('draws all four plots as well-formed SVG documents', () => {
    expect([...svgs.keys()]).toEqual(['setup-time', 'delay-per-click', 'cpu-per-process', 'density-quality']);
    for (const root of svgs.values()) {
      expect(root.name).toBe('svg');
      expect(root.attributes['xmlns']).toBe('http://www.w3.org/2000/svg');
      expect(Number(root.attributes['width'])).toBeGreaterThan(300);
    }
  });

  it('setup time: an ECDF of enqueue → INVITE per path, one point per call that reached the phone, warm and cold', () => {
    const root = svg('setup-time');
    expect(textsOfClass(root, 'role-axis-title')).toEqual(expect.arrayContaining(['enqueue → INVITE at the phone (ms)', 'share of calls at or below']));
    expect(textsOfClass(root, 'role-legend-label')).toEqual(['Roomline', 'direct call']);
    expect(textsOfClass(root, 'role-column-header')).toEqual(['warm worker', 'cold worker']);
    const points = pointLabels(root, 'mark-symbol');
    // 3 + 2 warm (the direct call without an INVITE is left out), 1 + 1 cold
    expect(points.filter((l) => l.endsWith('path: Roomline'))).toHaveLength(4);
    expect(points.filter((l) => l.endsWith('path: direct call'))).toHaveLength(3);
    // the slowest warm call of each path is where the curve reaches 1
    expect(points).toContain('enqueue → INVITE at the phone (ms): 1500; share of calls at or below: 1; path: Roomline');
    expect(points).toContain('enqueue → INVITE at the phone (ms): 130; share of calls at or below: 1; path: direct call');
    expect(pointLabels(root, 'mark-line').length).toBeGreaterThan(0);
  });

  it('delay: every click of each direction and the calibration, less its known delay, in a panel per path', () => {
    const root = svg('delay-per-click');
    expect(textsOfClass(root, 'role-axis-title')).toEqual(expect.arrayContaining(['click (1 s apart)', 'one-way delay (ms)']));
    expect(textsOfClass(root, 'role-legend-label')).toEqual(['room → phone', 'phone → room', 'calibration clicks, less the known delay']);
    expect(textsOfClass(root, 'role-column-header')).toEqual(['Roomline', 'direct call']);
    const points = pointLabels(root, 'mark-symbol');
    expect(points).toHaveLength(6);
    expect(points.some((l) => l.includes('one-way delay (ms): 131') && l.includes('calibration'))).toBe(true);
    expect(textsOfClass(root, 'role-title-subtitle').join(' ')).toContain('known 100 ms delay');
  });

  it('CPU: a line per process over the call, in a panel per path', () => {
    const root = svg('cpu-per-process');
    expect(textsOfClass(root, 'role-axis-title')).toEqual(expect.arrayContaining(['seconds into the steady call', 'CPU (cores)']));
    expect(textsOfClass(root, 'role-legend-label')).toEqual(['chromium: browser', 'chromium: renderer', 'node: roomline.mjs']);
    expect(allElements(root).filter((e) => (e.attributes['class'] ?? '').startsWith('mark-line role-mark')).flatMap((g) => g.children)).toHaveLength(3);
    expect(pointLabels(root, 'mark-symbol')).toHaveLength(6);
  });

  it('density: each call of each level on each leg, loss and concealment, with the limits as rules', () => {
    const root = svg('density-quality');
    expect(textsOfClass(root, 'role-axis-title')).toEqual(expect.arrayContaining(['concurrent calls in 1 vCPU']));
    expect(textsOfClass(root, 'role-column-header')).toEqual(['packets lost (%)', 'audio concealed (%)']);
    expect(textsOfClass(root, 'role-legend-label')).toEqual(['direct call', 'forwarded, room leg', 'forwarded, sip leg']);
    // 5 legs measured (2 + 2 forwarded, 1 direct), each on both measures
    expect(pointLabels(root, 'mark-symbol')).toHaveLength(10);
    expect(pointLabels(root, 'mark-rule')).toHaveLength(2);
  });

  it('leaves out, with the reason, each plot whose series the result lacks', () => {
    const plots: readonly PlotSpec[] = plotSpecs({ setup: series.setup }, { run: 'x' });
    expect(plots.map((p) => p.kind)).toEqual(['spec', 'missing', 'missing', 'missing']);
    expect(plotSpecs(undefined, { run: 'x' }).map((p) => (p.kind === 'missing' ? p.reason : ''))).toEqual([
      'the result keeps no setup calls',
      'the result keeps no delay clicks',
      'the result keeps no CPU timeline',
      'the result keeps no density calls',
    ]);
  });

  it('names the run in each plot: mode, date, machine and load', () => {
    const caption = runCaption({ ...results, machine: { ...results.machine, load: { atStart: [7.25, 6, 5], atEnd: [9, 8, 7] } } });
    expect(caption).toBe('quick run 2026-12-07 09:00 UTC; Example CPU, 2 cores, load 7.3 at the start');
    expect(textsOfClass(svg('setup-time'), 'role-title-subtitle')).toContain('quick run 2026-12-07 09:00 UTC; Example CPU, 2 cores');
  });
});

describe('plot files and the redraw command', () => {
  it('writes the plots beside the result, named after it', { timeout: 90_000 }, async () => {
    const file = join(scratch, 'run-1.json');
    await writeFile(file, resultsJson(results));
    const outcomes = await writePlots(file, await readBenchResult(file));
    expect(outcomes.map((o) => o.kind)).toEqual(['written', 'written', 'written', 'written']);
    expect((await readdir(scratch)).filter((f) => f.endsWith('.svg')).sort()).toEqual([
      'run-1.cpu-per-process.svg',
      'run-1.delay-per-click.svg',
      'run-1.density-quality.svg',
      'run-1.setup-time.svg',
    ]);
    expect(plotFile('bench/results/latest.json', 'setup-time')).toBe(join('bench', 'results', 'latest.setup-time.svg'));
    expect(parseXml(await readFile(plotFile(file, 'setup-time'), 'utf8')).name).toBe('svg');
  });

  it('reads a result as the benchmark writes it, and the committed latest result', async () => {
    expect(parseBenchResult(resultsJson(results), 'r.json').series).toEqual(series);
    const latest = await readBenchResult(join('bench', 'results', 'latest.json'));
    expect(latest.version).toBe(1);
  });

  it('refuses what is not a result, saying which file and what is wrong', async () => {
    expect(() => parseBenchResult('not json', 'a.txt')).toThrow(/^a\.txt is not a benchmark result: not JSON/);
    expect(() => parseBenchResult('{"name":"roomline","version":"0.1.0"}', 'package.json')).toThrow(
      /^package\.json is not a benchmark result: version: /,
    );
    const badSeries = JSON.stringify({ ...results, series: { density: [{ variant: 'forwarded', calls: 'two' }] } });
    expect(() => parseBenchResult(badSeries, 'r.json')).toThrow(/^r\.json is not a benchmark result: series\.density\.0\.calls: /);
    await expect(readBenchResult(join(scratch, 'absent.json'))).rejects.toThrow(NotABenchResult);
    await expect(readBenchResult(join(scratch, 'absent.json'))).rejects.toThrow(/cannot read it \(ENOENT\)/);
  });

  it('the redraw command exits 1 with the reason on a file that is not a result, and draws nothing', { timeout: 240_000 }, async () => {
    const file = join(scratch, 'other.json');
    await writeFile(file, '{"hello":"world"}');
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/plots/redraw.ts', file]);
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`bench:plots: ${file} is not a benchmark result: version: `);
    expect((await readdir(scratch)).filter((f) => f.startsWith('other.'))).toEqual(['other.json']);
  });
});
