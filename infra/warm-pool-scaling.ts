/**
 * The warm pool's scaling policy as numbers and one formula, with no CDK in it: `constructs/worker-service.ts` builds
 * the policy from these, and the warm-pool planner (`planner/`) simulates the same policy from the same values, so a
 * change here changes both. `test/infra/warm-pool-scaling.test.ts` checks the synthesized template against them.
 */

/** The metric-math ids of the scaling expression's inputs. */
export const WARM_POOL_METRIC_IDS = { busy: 'busy', waiting: 'waiting', desired: 'desired' } as const;

/**
 * The target-tracking policy: the desired count follows `busy + waiting + minIdleWorkers`.
 *
 * Application Auto Scaling makes and owns the two alarms of a target-tracking policy and does not let them be
 * configured: scale out when 3 of 3 one-minute datapoints are above the target, scale in when 15 of 15 are below 90%
 * of it (what the AlarmHigh/AlarmLow alarms it creates read; see github.com/aws/containers-roadmap/issues/1208).
 */
export const WARM_POOL_TARGET_TRACKING = {
  /** The expression is needed workers as percent of desired: 100 means exactly enough. */
  targetValue: 100,
  /**
   * Seconds after a scale-out during which a further scale-out counts from the capacity before it. Two minutes: a
   * datapoint is read a minute after its minute ends, so for two minutes after a scale-out the expression still divides
   * by the old desired count, and a 30 s cooldown (this policy's first value) let each of those datapoints multiply the
   * capacity again (the planner showed 1 → 3 → 12 → 16 workers within three minutes at 20 calls an hour).
   */
  scaleOutCooldownS: 120,
  /** Seconds after a scale-in before the next scale-in. */
  scaleInCooldownS: 60,
  /** The period of every input metric, and so of each datapoint, in seconds (the workers sample once a minute). */
  periodS: 60,
  /** AlarmHigh: datapoints above the target, out of as many, before a scale-out. Fixed by Application Auto Scaling. */
  scaleOutDatapoints: 3,
  /** AlarmLow: datapoints below `scaleInThresholdRatio × target`, out of as many, before a scale-in. Fixed likewise. */
  scaleInDatapoints: 15,
  /** AlarmLow's threshold as a share of the target. */
  scaleInThresholdRatio: 0.9,
} as const;

/** The expression the target-tracking policy tracks: needed workers as percent of the desired count. */
export function warmPoolDemandExpression(minIdleWorkers: number): string {
  const { busy, waiting, desired } = WARM_POOL_METRIC_IDS;
  return `100 * (FILL(${busy}, 0) + FILL(${waiting}, 0) + ${minIdleWorkers}) / ${desired}`;
}

/** What the demand expression computes, for the planner: the same formula over one minute's datapoints. */
export function warmPoolDemand(datapoint: { readonly busy: number; readonly waiting: number; readonly desired: number }, minIdleWorkers: number): number {
  return (100 * (datapoint.busy + datapoint.waiting + minIdleWorkers)) / datapoint.desired;
}

/**
 * The step scale-out beside target tracking: one alarm on the shortfall `busy + waiting + minIdleWorkers - desired`
 * that fires on a single one-minute datapoint (target tracking waits for three), adding the missing workers at once,
 * up to `maxChange` per step. Without it a burst beyond the idle pool waits about two minutes more before the first
 * new task even starts (the planner's before/after table in docs/deploy-aws.md). Scale-in stays with target tracking.
 */
export const WARM_POOL_STEP_SCALE_OUT = {
  /** Datapoints (of as many) at or over the threshold that raise the alarm. */
  datapoints: 1,
  /** The alarm fires at a shortfall of half a worker or more (desired is a minute's average, so it can be fractional). */
  threshold: 0.5,
  /** Most workers one step adds; a larger shortfall is met over the next steps. */
  maxChange: 10,
  /**
   * Seconds after a step before the next one adds on top of it rather than re-adding the same shortfall: a datapoint
   * is a minute old when it is read and describes the minute before the step, so two minutes.
   */
  cooldownS: 120,
} as const;

/** The expression the step scale-out's alarm reads: workers missing from the desired count. */
export function warmPoolShortfallExpression(minIdleWorkers: number): string {
  const { busy, waiting, desired } = WARM_POOL_METRIC_IDS;
  return `FILL(${busy}, 0) + FILL(${waiting}, 0) + ${minIdleWorkers} - ${desired}`;
}

/** What the shortfall expression computes, for the planner. */
export function warmPoolShortfall(datapoint: { readonly busy: number; readonly waiting: number; readonly desired: number }, minIdleWorkers: number): number {
  return datapoint.busy + datapoint.waiting + minIdleWorkers - datapoint.desired;
}

/** The step scale-out's steps on the shortfall: no change below the threshold, then +1 per whole worker up to `maxChange`. */
export function warmPoolScaleOutSteps(): readonly { readonly lower?: number; readonly upper?: number; readonly change: number }[] {
  const { threshold, maxChange } = WARM_POOL_STEP_SCALE_OUT;
  const steps: { lower?: number; upper?: number; change: number }[] = [{ upper: threshold, change: 0 }];
  for (let change = 1; change < maxChange; change++) steps.push({ lower: threshold + change - 1, upper: threshold + change, change });
  steps.push({ lower: threshold + maxChange - 1, change: maxChange });
  return steps;
}

/** The workers a step adds for a shortfall, as the steps above say (0 below the threshold). */
export function warmPoolStepChange(shortfall: number): number {
  const step = warmPoolScaleOutSteps().find((s) => (s.lower ?? -Infinity) <= shortfall && shortfall < (s.upper ?? Infinity));
  return step?.change ?? 0;
}
