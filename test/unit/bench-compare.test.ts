import { describe, expect, it } from 'vitest';
import { compareResults, ratioToDirect, renderComparison } from '../../bench/lib/compare.js';
import { completeFigures, measured, type BenchResults } from '../../bench/lib/report.js';
import { renderSetupSteps, setupStepMedians } from '../../bench/phases/setup-steps.js';
import { addStep, startTrace } from '../../contracts/setup-trace.js';

function result(invite: number, direct: number, commit?: BenchResults['commit']): BenchResults {
  return {
    version: 1,
    date: '2026-12-07T09:00:00.000Z',
    mode: 'quick',
    machine: { cpuModel: 'x', cores: 2, memoryBytes: 1, kernel: 'k', distribution: undefined, node: 'v22', chromium: 'c' },
    figures: completeFigures({ 'setup.warm.invite.p50': { roomline: measured(invite), baseline: measured(direct) } }, 'not run'),
    ...(commit === undefined ? {} : { commit }),
  };
}

describe('benchmark comparison', () => {
  it("compares each figure as Roomline's ratio to the direct call of its own run", () => {
    // a faster machine halves both values: the ratio, and so the comparison, stays the same
    const before = result(480, 40);
    const now = result(150, 20, { commit: 'a'.repeat(40), dirty: true });
    const invite = compareResults(before, now).find((c) => c.id === 'setup.warm.invite.p50')!;
    expect(invite.before).toBe(12);
    expect(invite.now).toBe(7.5);
    expect(invite.change).toBeCloseTo(0.625);
    const text = renderComparison(before, now);
    expect(text).toContain('| 12.00× | 7.50× | -38 % |');
    expect(text).toContain('commit not recorded');
    expect(text).toContain(`${'a'.repeat(12)} (dirty)`);
  });

  it('says n/a for a figure either run did not measure', () => {
    expect(ratioToDirect(result(1, 1).figures['cost.cores'])).toBeUndefined();
    expect(compareResults(result(1, 1), result(1, 1)).find((c) => c.id === 'cost.cores')?.change).toBeUndefined();
  });
});

describe('setup step medians', () => {
  it("gives each step's median start and length in path order, beside the direct call's equivalent", () => {
    const trace = (invite: number, join: number) =>
      addStep(addStep(startTrace(0, 'enqueued'), { step: 'page.join-room', at: 50, ms: join }), { step: 'sip.invite', at: invite });
    const rows = setupStepMedians([trace(300, 100), trace(200, 120), trace(250, 140)], [310, 210, 260], {
      invite: [40, 30, 50],
      answer: [],
      audioAtPhone: [],
      audioInRoom: [],
    });
    expect(rows.map((r) => r.step)).toEqual(['page.join-room', 'sip.invite', 'phone.invite']);
    expect(rows[0]).toEqual({ step: 'page.join-room', n: 3, startMs: 50, ms: 120 });
    expect(rows[1]).toEqual({ step: 'sip.invite', n: 3, startMs: 250, direct: { what: 'invite', ms: 40, n: 3 } });
    expect(renderSetupSteps(rows)).toContain('| phone.invite | 3 | 260.0 |  | 40.0 (invite, n=3) |');
  });
});
