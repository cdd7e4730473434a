import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { RoomlineError } from '../../contracts/errors.js';
import { plannerModulePath } from '../paths.js';
import { positiveInt } from './flag-values.js';

/** A flag that takes a number ≥ 0 (a rate, a length in minutes or seconds). */
const nonNegative = (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
};
/** A flag that takes a number > 0. */
const positive = (value: string) => {
  const n = nonNegative(value);
  if (n === 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
/** A flag that takes a whole number ≥ 0 (a burst of 0 is none). */
const wholeNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
};

interface PlanFlags {
  callsPerHour: number;
  burst: number;
  burstEveryMin: number;
  durationMin: number;
  duration: 'exponential' | 'fixed';
  p99UnderS: number;
  minIdleFrom: number;
  minIdleTo: number;
  maxWorkers?: number;
  taskStartP50S?: number;
  taskStartP95S?: number;
  metricLagS?: number;
  withoutStep?: boolean;
  scaleOutCooldownS?: number;
  hours: number;
  seed: number;
}

/** `roomline plan`: how many warm workers a workload needs, from a simulation of the construct's scaling policy. */
export function addPlanCommand(program: Command): void {
  program
    .command('plan')
    .description("simulate the construct's warm-pool scaling: per minIdleWorkers, the wait before the phone rings and the idle cost")
    .requiredOption('--calls-per-hour <n>', 'steady calls per hour (Poisson arrivals)', nonNegative)
    .option('--burst <k>', 'calls arriving in the same second, on top of the steady ones', wholeNumber, 0)
    .option('--burst-every-min <m>', 'mean minutes between bursts (Poisson)', positive, 60)
    .requiredOption('--duration-min <m>', 'mean call length in minutes', positive)
    .option('--duration <kind>', 'call lengths: "exponential" around the mean, or "fixed" at it', 'exponential')
    .option('--p99-under-s <s>', 'the bound on the p99 wait, in seconds', positive, 10)
    .option('--min-idle-from <n>', 'smallest minIdleWorkers to simulate', positiveInt, 1)
    .option('--min-idle-to <n>', 'largest minIdleWorkers to simulate', positiveInt, 10)
    .option('--max-workers <n>', "the construct's maxWorkers (default 20)", positiveInt)
    .option('--task-start-p50-s <s>', 'Fargate task launch, median seconds, before the worker warm-up (default 45, from AWS)', positive)
    .option('--task-start-p95-s <s>', 'Fargate task launch, 95th percentile seconds (default 75, or the median × 75/45; equal to the median: fixed)', positive)
    .option('--metric-lag-s <s>', 'seconds after a minute ends before the alarms see its datapoint (default 60)', wholeNumber)
    .option('--without-step', 'simulate the policy without its step scale-out (target tracking alone, as before it)')
    .option('--scale-out-cooldown-s <s>', "target tracking's scale-out cooldown (default the construct's, 120; it was 30)", wholeNumber)
    .option('--hours <h>', 'hours simulated for each minIdleWorkers', positive, 168)
    .option('--seed <n>', 'random seed: the same seed gives the same table', wholeNumber, 1)
    .action(async (flags: PlanFlags) => {
      if (flags.duration !== 'exponential' && flags.duration !== 'fixed') {
        throw new InvalidArgumentError(`--duration must be exponential or fixed, not ${String(flags.duration)}`);
      }
      if (flags.minIdleTo < flags.minIdleFrom) {
        throw new InvalidArgumentError(`--min-idle-to (${flags.minIdleTo}) must be at least --min-idle-from (${flags.minIdleFrom})`);
      }
      if (flags.maxWorkers !== undefined && flags.maxWorkers < flags.minIdleTo) {
        throw new InvalidArgumentError(`--max-workers (${flags.maxWorkers}) must be at least --min-idle-to (${flags.minIdleTo})`);
      }
      const p50 = flags.taskStartP50S;
      if (flags.taskStartP95S !== undefined && flags.taskStartP95S < (p50 ?? 45)) {
        throw new InvalidArgumentError(`--task-start-p95-s (${flags.taskStartP95S}) must be at least the median (${p50 ?? 45})`);
      }
      if (flags.callsPerHour === 0 && flags.burst === 0) throw new InvalidArgumentError('no calls: give --calls-per-hour > 0 or --burst > 0');
      const planner = await loadPlanner();
      const meanS = flags.durationMin * 60;
      const result = planner.plan({
        callsPerHour: flags.callsPerHour,
        burst: flags.burst,
        burstEveryMin: flags.burstEveryMin,
        duration: flags.duration === 'fixed' ? { kind: 'fixed', seconds: meanS } : { kind: 'exponential', meanS },
        p99UnderS: flags.p99UnderS,
        minIdleFrom: flags.minIdleFrom,
        minIdleTo: flags.minIdleTo,
        ...(flags.maxWorkers === undefined ? {} : { maxWorkers: flags.maxWorkers }),
        ...(p50 === undefined ? {} : { taskStartP50S: p50 }),
        ...(flags.taskStartP95S === undefined ? {} : { taskStartP95S: flags.taskStartP95S }),
        ...(flags.metricLagS === undefined ? {} : { metricLagS: flags.metricLagS }),
        withoutStep: flags.withoutStep === true,
        ...(flags.scaleOutCooldownS === undefined ? {} : { scaleOutCooldownS: flags.scaleOutCooldownS }),
        hours: flags.hours,
        seed: flags.seed,
      });
      process.stdout.write(planner.formatPlan(result));
    });
}

type PlannerModule = typeof import('../../planner/index.js');

/** The planner is built with the lab (it reads the construct's numbers in infra/), not into the worker image. */
async function loadPlanner(): Promise<PlannerModule> {
  const path = plannerModulePath();
  if (path === undefined) {
    throw new RoomlineError('INVALID_REQUEST', 'the planner is not part of this installation (dist/planner.mjs): use a clone of the repository');
  }
  return (await import(pathToFileURL(path).href)) as PlannerModule;
}
