import os from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  FIGURES,
  completeFigures,
  cpuModelFrom,
  machineInfo,
  measured,
  missing,
  renderMarkdown,
  reportRows,
  resultsJson,
  type BenchResults,
  type FigureId,
  type FigureValues,
  type MachineInfo,
} from '../../bench/lib/report.js';

const machine: MachineInfo = {
  cpuModel: 'Example CPU @ 2.20GHz',
  cores: 2,
  memoryBytes: 8 * 2 ** 30,
  kernel: 'Linux 6.1.0-28-amd64',
  distribution: 'Debian GNU/Linux 12 (bookworm)',
  node: 'v22.12.0',
  chromium: 'HeadlessChrome/131.0.6778.204',
};

const ids = Object.keys(FIGURES) as FigureId[];

/** Table cells of the row whose first cell is `label` (cells split on unescaped pipes). */
function rowCells(markdown: string, label: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${label} |`) || l.startsWith(`| ${label} (`));
  if (line === undefined) throw new Error(`no row for ${label}`);
  return line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
}

function results(figures: BenchResults['figures'], notes?: readonly string[]): BenchResults {
  return { version: 1, date: '2026-11-26T21:55:03.000Z', mode: 'quick', machine, figures, ...(notes ? { notes } : {}) };
}

describe('benchmark report', () => {
  it('renders a complete result: every figure with both values, the ratio and whether the aim is met', () => {
    const figures = Object.fromEntries(
      ids.map((id, i): [FigureId, FigureValues] => [id, { roomline: measured(100 + i, 20), baseline: measured(50 + i, 20) }]),
    ) as Record<FigureId, FigureValues>;
    figures['setup.warm.invite.p50'] = { roomline: measured(231, 20), baseline: measured(120, 20) };
    figures['delay.roomToPhone'] = { roomline: measured(150, 120), baseline: measured(100, 120) };
    figures['delay.phoneToRoom'] = { roomline: measured(190), baseline: measured(100) };
    figures['cost.cores'] = { roomline: measured(0.2), baseline: measured(0.07) };
    figures['cost.fargateUsdPerCallMinute'] = {
      roomline: measured(0.000411),
      baseline: measured(0.000411),
      note: '0.25 vCPU, 1 GB task',
    };
    figures['density.callsPerVcpu'] = { roomline: measured(6), baseline: measured(14) };

    const markdown = renderMarkdown(results(figures, ['The CPU figure is bound by the audio thread of the renderer.']));

    expect(markdown).toContain('### Roomline benchmark: quick run, 2026-11-26 21:55 UTC');
    expect(markdown).toContain(
      'Machine: Example CPU @ 2.20GHz, 2 cores, 8.0 GiB memory; Debian GNU/Linux 12 (bookworm), Linux 6.1.0-28-amd64; ' +
        'Node v22.12.0; Chromium HeadlessChrome/131.0.6778.204',
    );
    expect(markdown).not.toContain('n/a');
    const tableRows = markdown.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| **') && !l.startsWith('| Figure') && !l.startsWith('| ---'));
    expect(tableRows).toHaveLength(ids.length);
    for (const id of ids) expect(markdown).toContain(`| ${FIGURES[id].label}`);
    expect(rowCells(markdown, 'warm: enqueue → INVITE at the phone, p50')).toEqual([
      'warm: enqueue → INVITE at the phone, p50',
      '231 ms (n=20)',
      '120 ms (n=20)',
      '1.93×',
      '≤ 150 ms',
      'no',
    ]);
    expect(rowCells(markdown, FIGURES['delay.roomToPhone'].label).slice(4)).toEqual(['≤ 20 ms added', 'no (+50 ms)']);
    expect(rowCells(markdown, FIGURES['delay.phoneToRoom'].label).slice(4)).toEqual(['≤ 20 ms added', 'no (+90 ms)']);
    expect(rowCells(markdown, FIGURES['cost.cores'].label).slice(1)).toEqual(['0.200 cores', '0.070 cores', '2.86×', '≤ 0.080 cores', 'no']);
    expect(rowCells(markdown, 'Fargate price per call-minute')).toEqual([
      'Fargate price per call-minute (0.25 vCPU, 1 GB task)',
      '$0.000411',
      '$0.000411',
      '1.00×',
      '',
      '',
    ]);
    expect(rowCells(markdown, FIGURES['density.callsPerVcpu'].label).slice(4)).toEqual(['≥ 10 calls', 'no']);
    expect(markdown).toContain('| **Setup time** |');
    expect(markdown).toContain('| **Audio continuity** |');
    expect(markdown.trimEnd().endsWith('The CPU figure is bound by the audio thread of the renderer.')).toBe(true);
  });

  it('renders missing values as n/a with their reason, never as a number', () => {
    const figures = completeFigures(
      {
        'setup.warm.invite.p50': { roomline: measured(Number.NaN), baseline: measured(120, 20) },
        'cost.cores': { roomline: measured(0.06), baseline: missing('direct call | not measured') },
        'continuity.roomConcealedPercent': { roomline: measured(0.4), baseline: missing('a direct call has no room leg') },
        'delay.roomToPhone': { roomline: measured(140), baseline: missing('no click found') },
      },
      'not run in quick mode',
    );

    const markdown = renderMarkdown(results(figures));
    const rows = reportRows(results(figures));

    expect(rowCells(markdown, 'warm: enqueue → INVITE at the phone, p50').slice(1)).toEqual([
      'n/a (not a finite number (NaN))',
      '120 ms (n=20)',
      'n/a',
      '≤ 150 ms',
      'n/a',
    ]);
    // the Roomline value alone decides an aim on Roomline's value
    expect(rowCells(markdown, FIGURES['cost.cores'].label).slice(1)).toEqual([
      '0.060 cores',
      'n/a (direct call \\| not measured)',
      'n/a',
      '≤ 0.080 cores',
      'yes',
    ]);
    // an aim on what Roomline adds needs the direct call too
    expect(rowCells(markdown, FIGURES['delay.roomToPhone'].label).slice(1)).toEqual([
      '140 ms',
      'n/a (no click found)',
      'n/a',
      '≤ 20 ms added',
      'n/a',
    ]);
    expect(rowCells(markdown, 'concealed audio, room leg').slice(1, 3)).toEqual(['0.40%', 'n/a (a direct call has no room leg)']);
    expect(rowCells(markdown, 'cold: enqueue → answer, p95').slice(1, 4)).toEqual([
      'n/a (not run in quick mode)',
      'n/a (not run in quick mode)',
      'n/a',
    ]);
    // every value that is missing renders as n/a with its reason
    expect(rows.filter((row) => row.values.roomline.kind === 'value')).toHaveLength(3);
    for (const row of rows) {
      const [, roomline, baseline] = rowCells(markdown, row.spec.label);
      if (row.values.roomline.kind === 'missing') expect(roomline).toBe(`n/a (${row.values.roomline.reason.replace('|', '\\|')})`);
      if (row.values.baseline.kind === 'missing') expect(baseline).toBe(`n/a (${row.values.baseline.reason.replace('|', '\\|')})`);
    }
  });

  it('gives no ratio when the direct call measured 0', () => {
    const figures = completeFigures({ 'continuity.sipConcealedPercent': { roomline: measured(0.5), baseline: measured(0) } }, 'not run');

    const row = reportRows(results(figures)).find((r) => r.id === 'continuity.sipConcealedPercent')!;

    expect(row.ratio).toEqual({ kind: 'missing', reason: 'direct call is 0' });
    expect(row.added).toEqual({ kind: 'value', value: 0.5 });
  });

  it('writes JSON carrying the values, the ratio and the aim outcome of each figure', () => {
    const figures = completeFigures({ 'setup.warm.invite.p50': { roomline: measured(400, 20), baseline: measured(200, 20) } }, 'not run');

    const json = JSON.parse(resultsJson(results(figures))) as {
      figures: Record<string, unknown>;
      derived: Record<string, { ratio: unknown; aimMet: boolean | null }>;
    };

    expect(json.figures['setup.warm.invite.p50']).toEqual({
      roomline: { kind: 'value', value: 400, n: 20 },
      baseline: { kind: 'value', value: 200, n: 20 },
    });
    expect(json.derived['setup.warm.invite.p50']).toMatchObject({ ratio: { kind: 'value', value: 2 }, aimMet: false });
    expect(json.derived['cost.pssMb']!.aimMet).toBeNull();
    expect(Object.keys(json.derived)).toHaveLength(ids.length);
  });

  it('reads the CPU model from /proc/cpuinfo text on x86 and ARM', () => {
    expect(cpuModelFrom('processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\n')).toBe(
      'Intel(R) Xeon(R) CPU @ 2.20GHz',
    );
    expect(cpuModelFrom('processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B\n')).toBe(
      'Raspberry Pi 4 Model B',
    );
    expect(cpuModelFrom('processor\t: 0\n')).toBeUndefined();
  });

  it('describes the machine it runs on', async () => {
    const info = await machineInfo('HeadlessChrome/131.0');

    expect(info.cpuModel.length).toBeGreaterThan(0);
    expect(info.cores).toBe(os.availableParallelism());
    expect(info.memoryBytes).toBe(os.totalmem());
    expect(info.kernel).toContain(os.release());
    expect(info.node).toBe(process.version);
    expect(info.chromium).toBe('HeadlessChrome/131.0');
    expect(info.load).toBeUndefined();
  });

  it('records the machine load at the start and the end of a run, and shows it under the machine', async () => {
    const info = await machineInfo('HeadlessChrome/131.0', [3.25, 2.5, 1.75]);
    const figures = completeFigures({}, 'not measured in this run');

    const markdown = renderMarkdown({ ...results(figures), machine: { ...machine, load: { atStart: [3.25, 2.5, 1.75], atEnd: [4, 3, 2.125] } } });

    expect(info.load?.atStart).toEqual([3.25, 2.5, 1.75]);
    expect(info.load?.atEnd).toHaveLength(3);
    expect(markdown).toContain('Load average (1, 5, 15 min): 3.25, 2.50, 1.75 at the start, 4.00, 3.00, 2.13 at the end');
  });
});
