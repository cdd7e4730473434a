import { describe, expect, it } from 'vitest';
import { WARM_POOL_TARGET_TRACKING } from '../../infra/warm-pool-scaling.js';
import { formatPlan, plan } from '../../planner/plan.js';
import { constructPolicy } from '../../planner/policy.js';
import { seededRandom } from '../../planner/random.js';
import { simulate, type SimulationInput } from '../../planner/simulation.js';

/** Task start fixed at 47 s, so every wait below can be worked out by hand. */
const START_S = 47;
const run = (options: { minIdleWorkers: number; arrivals: number[]; durations: number[]; horizonS?: number; withStep?: boolean; metricLagS?: number }) => {
  const input: SimulationInput = {
    policy: constructPolicy({ minIdleWorkers: options.minIdleWorkers, withStep: options.withStep ?? true, metricLagS: options.metricLagS ?? 60 }),
    taskStart: { kind: 'fixed', seconds: START_S },
    arrivals: options.arrivals,
    durations: options.durations,
    horizonS: options.horizonS ?? 3600,
    random: seededRandom(7),
  };
  return simulate(input);
};
const waits = (result: ReturnType<typeof run>) => result.calls.map((c) => c.waitS);

describe('the warm-pool simulation', () => {
  it('lets calls that never outnumber the idle pool wait for nothing', () => {
    // Prepare: 3 idle workers; 3 calls at once, then one call every 10 minutes, each a minute long (its worker's
    // replacement is ready 47 s after the call, long before the next)
    const arrivals = [0, 0, 0, 600, 1200, 1800, 2400, 3000];
    // Act
    const result = run({ minIdleWorkers: 3, arrivals, durations: arrivals.map(() => 60) });
    // Assess
    expect(waits(result)).toEqual(arrivals.map(() => 0));
  });

  it('starts a fresh task after each call: a call soon after the only worker finished waits for the replacement', () => {
    // Prepare: 1 idle worker; a 30 s call at 0 s, the next call at 40 s
    // Act
    const result = run({ minIdleWorkers: 1, arrivals: [0, 40], durations: [30, 30] });
    // Assess: the replacement starts when the first call ends (30 s) and is ready at 30 + 47 = 77 s
    expect(waits(result)).toEqual([0, 77 - 40]);
  });

  it('makes a burst of k above the idle pool wait one step delay (a minute, read a minute late) and one task start', () => {
    // Prepare: 2 idle workers, a burst of 2 + 5 long calls at 0 s
    const k = 5;
    const arrivals = Array.from({ length: 2 + k }, () => 0);
    // Act
    const result = run({ minIdleWorkers: 2, arrivals, durations: arrivals.map(() => 1800) });
    // Assess: minute 0 shows the shortfall (2 busy + 5 waiting + 2 idle wanted − 2 desired = 7); the alarm reads it at
    // 60 + 60 s, the step adds 7 tasks, ready 47 s later
    expect(waits(result)).toEqual([0, 0, ...Array.from({ length: k }, () => 120 + START_S)]);
    expect(result.scaling[0]).toEqual({ atS: 120, from: 2, to: 2 + k + 2, by: 'step-out' });
  });

  it('scales out only after the policy\'s evaluation delay: target tracking alone waits for 3 datapoints over the target', () => {
    // Prepare: the same burst, with the construct's policy as it was before its step scale-out
    const arrivals = Array.from({ length: 7 }, () => 0);
    // Act
    const before = run({ minIdleWorkers: 2, arrivals, durations: arrivals.map(() => 1800), withStep: false });
    const noLag = run({ minIdleWorkers: 2, arrivals, durations: arrivals.map(() => 1800), withStep: false, metricLagS: 0 });
    // Assess: minutes 0, 1 and 2 over the target, read a minute after minute 2 ends (240 s), or as it ends (180 s)
    const datapoints = WARM_POOL_TARGET_TRACKING.scaleOutDatapoints;
    expect(waits(before).slice(2)).toEqual(Array.from({ length: 5 }, () => datapoints * 60 + 60 + START_S));
    expect(waits(noLag).slice(2)).toEqual(Array.from({ length: 5 }, () => datapoints * 60 + START_S));
    expect(before.scaling[0]).toEqual({ atS: 240, from: 2, to: 9, by: 'target-tracking-out' });
  });

  it('scales back in to minIdleWorkers only after 15 datapoints under 90% of the target, never below a busy worker', () => {
    // Prepare: a burst of 7 one-minute calls
    const arrivals = Array.from({ length: 7 }, () => 0);
    // Act
    const result = run({ minIdleWorkers: 2, arrivals, durations: arrivals.map(() => 60), horizonS: 2 * 3600 });
    // Assess
    const lastOut = Math.max(...result.scaling.filter((e) => e.by !== 'target-tracking-in').map((e) => e.atS));
    const scaleIns = result.scaling.filter((e) => e.by === 'target-tracking-in');
    expect(scaleIns.length).toBeGreaterThan(0);
    expect(scaleIns[0]!.atS - lastOut).toBeGreaterThanOrEqual(WARM_POOL_TARGET_TRACKING.scaleInDatapoints * 60 - 120);
    expect(scaleIns.at(-1)!.to).toBe(2);
    expect(result.calls).toHaveLength(7);
  });

  it('counts an idle pool without calls as idle task time', () => {
    // Act
    const result = run({ minIdleWorkers: 2, arrivals: [], durations: [], horizonS: 3600 });
    // Assess
    expect(result.idleTaskSeconds).toBe(2 * 3600);
    expect(result.scaling).toEqual([]);
  });
});

describe('the plan', () => {
  it("prices an idle pool as the docs' cost table does: 2 workers of 1 vCPU and 2 GB for a month", () => {
    // Act
    const result = plan({ callsPerHour: 0, duration: { kind: 'fixed', seconds: 60 }, minIdleFrom: 2, minIdleTo: 2, hours: 2 });
    // Assess: 2 × 730 h × (1 × $0.04048 + 2 × $0.004445)
    expect(result.rows[0]!.idleUsdPerMonth).toBeCloseTo(72.08, 2);
  });

  it('gives the same table for the same seed, and names the smallest minIdleWorkers under the bound', () => {
    // Prepare
    const options = { callsPerHour: 30, burst: 4, duration: { kind: 'exponential', meanS: 180 }, minIdleTo: 8, hours: 24, p99UnderS: 10 } as const;
    // Act
    const first = plan({ ...options, seed: 3 });
    const again = plan({ ...options, seed: 3 });
    const other = plan({ ...options, seed: 4 });
    // Assess
    expect(again).toEqual(first);
    expect(other.rows).not.toEqual(first.rows);
    const under = first.rows.filter((r) => r.waitP99S < 10).map((r) => r.minIdleWorkers);
    expect(first.recommended).toBe(Math.min(...under));
    expect(first.rows.find((r) => r.minIdleWorkers === first.recommended! - 1)?.waitP99S ?? Infinity).toBeGreaterThanOrEqual(10);
    expect(formatPlan(first)).toContain(`Smallest minIdleWorkers with the p99 wait under 10 s: ${first.recommended}`);
  });
});
