import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WARM_POOL_DEFAULTS } from '../../infra/bridge-props.js';
import { warmPoolDemandExpression, warmPoolScaleOutSteps, warmPoolShortfallExpression } from '../../infra/warm-pool-scaling.js';
import { constructPolicy } from '../../planner/policy.js';
import { resourceOf, synthBridge } from './synth.js';

type Props = Record<string, unknown>;
const policies = (template: Template, type: string): Props[] =>
  Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))
    .map((r) => (r as { Properties: Props }).Properties)
    .filter((p) => p['PolicyType'] === type);

/** The deployed scaling policy is the one the planner simulates: a change to either side without the other fails here. */
describe('warm-pool scaling, as the planner simulates it', () => {
  // one synth (a minute on a loaded machine): a minIdleWorkers other than the default, so a constant in place of the
  // prop would show; every other prop at its default
  for (const minIdleWorkers of [WARM_POOL_DEFAULTS.minIdleWorkers + 1]) {
    describe(`minIdleWorkers ${minIdleWorkers}`, () => {
      let template: Template;
      beforeAll(() => {
        // Prepare / Act
        template = synthBridge({ minIdleWorkers }).template;
      });
      const policy = () => constructPolicy({ minIdleWorkers });

      it('keeps the desired count between the planner\'s minIdleWorkers and maxWorkers', () => {
        // Assess
        const target = resourceOf(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'Worker');
        expect(target.Properties).toMatchObject({ MinCapacity: policy().minIdleWorkers, MaxCapacity: policy().maxWorkers });
      });

      it("tracks the planner's demand expression with its target and cooldowns", () => {
        // Assess
        const [tracking, ...others] = policies(template, 'TargetTrackingScaling');
        expect(others).toHaveLength(0);
        const config = tracking!['TargetTrackingScalingPolicyConfiguration'] as Props;
        expect(config).toMatchObject({
          TargetValue: policy().targetValue,
          ScaleOutCooldown: policy().scaleOutCooldownS,
          ScaleInCooldown: policy().scaleInCooldownS,
        });
        const metrics = (config['CustomizedMetricSpecification'] as { Metrics: { Id: string; Expression?: string; ReturnData: boolean }[] }).Metrics;
        expect(metrics.find((m) => m.ReturnData)?.Expression).toBe(warmPoolDemandExpression(minIdleWorkers));
        expect(metrics.find((m) => m.ReturnData)?.Expression).toContain(`+ ${minIdleWorkers})`);
      });

      it("steps out on the planner's shortfall after its datapoints, by its steps, with its cooldown", () => {
        // Assess
        const [step, ...others] = policies(template, 'StepScaling');
        expect(others).toHaveLength(0);
        const config = step!['StepScalingPolicyConfiguration'] as { Cooldown: number; AdjustmentType: string; StepAdjustments: { MetricIntervalLowerBound?: number; MetricIntervalUpperBound?: number; ScalingAdjustment: number }[] };
        const stepPolicy = policy().step!;
        expect(config.Cooldown).toBe(stepPolicy.cooldownS);
        expect(config.AdjustmentType).toBe('ChangeInCapacity');
        // CloudFormation's bounds are relative to the alarm's threshold
        const expected = warmPoolScaleOutSteps()
          .filter((s) => s.change > 0)
          .map((s) => ({ lower: s.lower! - stepPolicy.threshold, upper: s.upper === undefined ? undefined : s.upper - stepPolicy.threshold, change: s.change }));
        const actual = config.StepAdjustments.map((a) => ({ lower: a.MetricIntervalLowerBound, upper: a.MetricIntervalUpperBound, change: a.ScalingAdjustment }));
        expect(actual.sort((a, b) => a.change - b.change)).toEqual(expected);
        const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
          .map((r) => (r as { Properties: Props }).Properties)
          .filter((p) => JSON.stringify(p['Metrics'] ?? '').includes(warmPoolShortfallExpression(minIdleWorkers)));
        expect(alarms).toHaveLength(1);
        expect(alarms[0]).toMatchObject({
          Threshold: stepPolicy.threshold,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: stepPolicy.datapoints,
          DatapointsToAlarm: stepPolicy.datapoints,
        });
        const periods = (alarms[0]!['Metrics'] as { MetricStat?: { Period: number } }[]).flatMap((m) => (m.MetricStat === undefined ? [] : [m.MetricStat.Period]));
        expect(periods).toEqual([policy().periodS, policy().periodS, policy().periodS]);
      });

      it("runs workers of the size the planner prices", () => {
        // Assess
        const task = Object.values(template.findResources('AWS::ECS::TaskDefinition'))
          .map((r) => r as { Properties: { ContainerDefinitions: { Name: string }[] } })
          .find((r) => r.Properties.ContainerDefinitions.some((c) => c.Name === 'worker'));
        expect(task?.Properties).toMatchObject({ Cpu: String(WARM_POOL_DEFAULTS.workerCpu), Memory: String(WARM_POOL_DEFAULTS.workerMemoryMiB) });
      });
    });
  }
});
