import * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * How Roomline's Fargate services (workers, Janus) deploy: a new task is up before an old one goes, a deployment that
 * keeps failing rolls back, tasks carry the service's tags.
 */
export const SERVICE_DEPLOYMENT = {
  minHealthyPercent: 100,
  maxHealthyPercent: 200,
  circuitBreaker: { rollback: true },
  propagateTags: ecs.PropagatedTagSource.SERVICE,
  enableECSManagedTags: true,
} as const satisfies Partial<ecs.FargateServiceProps>;
