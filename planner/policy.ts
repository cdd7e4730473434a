import { WARM_POOL_DEFAULTS } from '../infra/bridge-props.js';
import { WARM_POOL_STEP_SCALE_OUT, WARM_POOL_TARGET_TRACKING } from '../infra/warm-pool-scaling.js';

/**
 * The scaling policy the simulation runs, taken from the construct's own constants (`infra/warm-pool-scaling.ts`),
 * so the planner simulates what `infra/constructs/worker-service.ts` deploys.
 */
export interface ScalingPolicy {
  readonly minIdleWorkers: number;
  readonly maxWorkers: number;
  /** Target tracking (worker-service.ts `WarmPoolScaling`). */
  readonly targetValue: number;
  readonly scaleOutCooldownS: number;
  readonly scaleInCooldownS: number;
  readonly periodS: number;
  readonly scaleOutDatapoints: number;
  readonly scaleInDatapoints: number;
  readonly scaleInThresholdRatio: number;
  /** The step scale-out on the shortfall (worker-service.ts `WarmPoolStepScaleOut`), or none (the policy before it). */
  readonly step: StepScaleOut | undefined;
  /**
   * Seconds after a minute ends before its datapoint is seen by the alarms (EMF lines pass through CloudWatch Logs,
   * SQS and Container Insights publish once a minute). Not from AWS: an assumption, given by flag.
   */
  readonly metricLagS: number;
}

export interface StepScaleOut {
  readonly datapoints: number;
  readonly threshold: number;
  readonly maxChange: number;
  readonly cooldownS: number;
}

/** The construct's policy for `minIdleWorkers` (and its other defaults unless given). */
export function constructPolicy(options: {
  readonly minIdleWorkers: number;
  readonly maxWorkers?: number;
  readonly withStep?: boolean;
  readonly metricLagS?: number;
  /** A scale-out cooldown other than the construct's (30 s: the construct before its step scale-out). */
  readonly scaleOutCooldownS?: number;
}): ScalingPolicy {
  return {
    minIdleWorkers: options.minIdleWorkers,
    maxWorkers: options.maxWorkers ?? WARM_POOL_DEFAULTS.maxWorkers,
    ...WARM_POOL_TARGET_TRACKING,
    scaleOutCooldownS: options.scaleOutCooldownS ?? WARM_POOL_TARGET_TRACKING.scaleOutCooldownS,
    step:
      (options.withStep ?? true)
        ? {
            datapoints: WARM_POOL_STEP_SCALE_OUT.datapoints,
            threshold: WARM_POOL_STEP_SCALE_OUT.threshold,
            maxChange: WARM_POOL_STEP_SCALE_OUT.maxChange,
            cooldownS: WARM_POOL_STEP_SCALE_OUT.cooldownS,
          }
        : undefined,
    metricLagS: options.metricLagS ?? DEFAULT_METRIC_LAG_S,
  };
}

/** @see ScalingPolicy.metricLagS */
export const DEFAULT_METRIC_LAG_S = 60;
