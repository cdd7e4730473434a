import { WARM_POOL_DEFAULTS } from '../infra/bridge-props.js';
import { FARGATE_PRICES_READ_ON, FARGATE_PRICES_SCOPE, taskUsdPerHour } from '../infra/fargate.js';
import { constructPolicy } from './policy.js';
import { quantile, seededRandom, type Distribution } from './random.js';
import { simulate } from './simulation.js';
import { FARGATE_LAUNCH_DEFAULT, WORKER_WARM_UP_S } from './task-start.js';
import { generateCalls, type Workload } from './workload.js';

/** What `roomline plan` is asked. */
export interface PlanOptions extends Workload {
  /** The smallest and largest `minIdleWorkers` to simulate. @default 1 and 10 */
  readonly minIdleFrom?: number;
  readonly minIdleTo?: number;
  /** The bound on the 99th percentile of the wait, in seconds. @default 10 */
  readonly p99UnderS?: number;
  /** Fargate launch time, median and 95th percentile in seconds (the worker's warm-up is added); equal: fixed.
   * @default 45 and 75; a median alone keeps that spread */
  readonly taskStartP50S?: number;
  readonly taskStartP95S?: number;
  /** @default 20 (the construct's maxWorkers) */
  readonly maxWorkers?: number;
  /** Simulate the construct's policy without its step scale-out (as it was before it). @default false */
  readonly withoutStep?: boolean;
  /** @default 60 */
  readonly metricLagS?: number;
  /** @default the construct's (120 s); 30 s with `withoutStep` simulates the construct before its step scale-out */
  readonly scaleOutCooldownS?: number;
  /** Simulated hours per `minIdleWorkers`. @default 168 (a week) */
  readonly hours?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Worker task size. @default the construct's, 1024 CPU units and 2048 MiB */
  readonly workerCpu?: number;
  readonly workerMemoryMiB?: number;
}

export interface PlanRow {
  readonly minIdleWorkers: number;
  readonly calls: number;
  readonly waitP50S: number;
  readonly waitP95S: number;
  readonly waitP99S: number;
  /** Share of calls that waited for a task to start (no idle worker when they arrived), 0..1. */
  readonly coldShare: number;
  /** Fargate cost of the task time not in a call (starting or idle), per month of 730 hours, US dollars. */
  readonly idleUsdPerMonth: number;
}

export interface Plan {
  readonly rows: readonly PlanRow[];
  /** The smallest `minIdleWorkers` whose p99 wait is under the bound, if any in the range. */
  readonly recommended: number | undefined;
  readonly p99UnderS: number;
}

/** Runs the simulation for each `minIdleWorkers` of the range, on the same calls and the same seed. */
export function plan(options: PlanOptions): Plan {
  const hours = options.hours ?? 168;
  const horizonS = Math.round(hours * 3600);
  const seed = options.seed ?? 1;
  const { arrivals, durations } = generateCalls(options, horizonS, seededRandom(seed));
  // a median given alone keeps the default's spread (p95 / p50)
  const p50S = options.taskStartP50S ?? FARGATE_LAUNCH_DEFAULT.p50S;
  const p95S = options.taskStartP95S ?? (p50S * FARGATE_LAUNCH_DEFAULT.p95S) / FARGATE_LAUNCH_DEFAULT.p50S;
  const launch: Distribution = { kind: 'lognormal', p50S: p50S + WORKER_WARM_UP_S, p95S: p95S + WORKER_WARM_UP_S };
  const usdPerHour = taskUsdPerHour({
    vcpu: (options.workerCpu ?? WARM_POOL_DEFAULTS.workerCpu) / 1024,
    memoryGb: (options.workerMemoryMiB ?? WARM_POOL_DEFAULTS.workerMemoryMiB) / 1024,
  });
  const p99UnderS = options.p99UnderS ?? 10;
  const rows: PlanRow[] = [];
  for (let minIdleWorkers = options.minIdleFrom ?? 1; minIdleWorkers <= (options.minIdleTo ?? 10); minIdleWorkers++) {
    const policy = constructPolicy({
      minIdleWorkers,
      ...(options.maxWorkers === undefined ? {} : { maxWorkers: options.maxWorkers }),
      withStep: options.withoutStep !== true,
      ...(options.metricLagS === undefined ? {} : { metricLagS: options.metricLagS }),
      ...(options.scaleOutCooldownS === undefined ? {} : { scaleOutCooldownS: options.scaleOutCooldownS }),
    });
    const result = simulate({ policy, taskStart: launch, arrivals, durations, horizonS, random: seededRandom(seed + 1) });
    const waits = result.calls.map((c) => c.waitS);
    rows.push({
      minIdleWorkers,
      calls: waits.length,
      waitP50S: quantile(waits, 0.5),
      waitP95S: quantile(waits, 0.95),
      waitP99S: quantile(waits, 0.99),
      coldShare: waits.length === 0 ? 0 : waits.filter((w) => w > 0).length / waits.length,
      idleUsdPerMonth: (result.idleTaskSeconds / 3600) * usdPerHour * (730 / (result.simulatedS / 3600)),
    });
  }
  return { rows, recommended: rows.find((r) => r.waitP99S < p99UnderS)?.minIdleWorkers, p99UnderS };
}

/** The plan as a Markdown table, and a line with the smallest `minIdleWorkers` that keeps p99 under the bound. */
export function formatPlan(result: Plan): string {
  const lines = [
    '| minIdleWorkers | calls | wait p50 | wait p95 | wait p99 | waited for a cold task | idle cost / month |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map(
      (r) =>
        `| ${r.minIdleWorkers} | ${r.calls} | ${r.waitP50S} s | ${r.waitP95S} s | ${r.waitP99S} s | ${(100 * r.coldShare).toFixed(1)}% | $${r.idleUsdPerMonth.toFixed(2)} |`,
    ),
    '',
    result.recommended === undefined
      ? `No minIdleWorkers in this range keeps the p99 wait under ${result.p99UnderS} s: widen the range (--min-idle-to).`
      : `Smallest minIdleWorkers with the p99 wait under ${result.p99UnderS} s: ${result.recommended}`,
    `(Fargate prices: ${FARGATE_PRICES_SCOPE}, read ${FARGATE_PRICES_READ_ON}; idle cost counts starting and idle task time.)`,
  ];
  return `${lines.join('\n')}\n`;
}
