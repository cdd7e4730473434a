import { z } from 'zod';
import { RoomlineError } from '../../contracts/errors.js';
import { DEFAULT_METRICS_NAMESPACE } from './metric-names.js';
import { DEFAULT_TRUNK_SECRET_PREFIX } from './trunk-credentials.js';

/**
 * Environment of a worker's AWS mode, on top of `workerEnvSchema` (worker/config.ts). The CDK construct sets every
 * one of these in the worker's task definition; `ECS_AGENT_URI` is set by ECS itself.
 */
export const awsModeEnvSchema = z.object({
  /** `emf` writes CloudWatch metrics as Embedded Metric Format lines to stdout; `off` writes none. @default "off" */
  ROOMLINE_METRICS: z.enum(['emf', 'off']).default('off'),
  /** CloudWatch namespace of the metrics. @default "Roomline" */
  ROOMLINE_METRICS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'must be a CloudWatch namespace (letters, digits, . _ / # : -)')
    .refine((s) => !s.startsWith('AWS/'), 'must not start with AWS/')
    .default(DEFAULT_METRICS_NAMESPACE),
  /** Value of the metrics' `Deployment` dimension (the construct sets the stack name). @default "default" */
  ROOMLINE_METRICS_DEPLOYMENT: z.string().min(1).max(255).default('default'),
  /** Prefix of the Secrets Manager secrets holding trunk credentials. @default "roomline/trunks/" */
  ROOMLINE_TRUNK_SECRET_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{0,256}$/, 'must contain only characters allowed in secret names')
    .default(DEFAULT_TRUNK_SECRET_PREFIX),
  /** ECS agent endpoint, set by ECS in every task; unset off ECS (task protection is then a no-op). */
  ECS_AGENT_URI: z.string().url().optional(),
});

export interface AwsModeConfig {
  readonly metrics: 'emf' | 'off';
  readonly metricsNamespace: string;
  readonly metricsDeployment: string;
  readonly trunkSecretPrefix: string;
  readonly ecsAgentUri: string | undefined;
}

/** Reads and validates the AWS-mode variables; a bad value throws `INVALID_REQUEST` naming the variable. */
export function loadAwsModeConfig(env: NodeJS.ProcessEnv = process.env): AwsModeConfig {
  const result = awsModeEnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new RoomlineError('INVALID_REQUEST', `configuration error:\n${problems}`);
  }
  const parsed = result.data;
  return {
    metrics: parsed.ROOMLINE_METRICS,
    metricsNamespace: parsed.ROOMLINE_METRICS_NAMESPACE,
    metricsDeployment: parsed.ROOMLINE_METRICS_DEPLOYMENT,
    trunkSecretPrefix: parsed.ROOMLINE_TRUNK_SECRET_PREFIX,
    ecsAgentUri: parsed.ECS_AGENT_URI,
  };
}
