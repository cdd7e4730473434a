import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsModeConfig } from './aws-env.js';
import { CallMetrics, WorkerStateGauge } from './emf-metrics.js';
import { TaskProtection } from './task-protection.js';
import { TrunkCredentialStore } from './trunk-credentials.js';

export * from './aws-env.js';
export * from './emf-metrics.js';
export * from './metric-names.js';
export * from './task-protection.js';
export * from './trunk-credentials.js';

/** The worker's AWS-mode services, built once at start by `createAwsMode`. */
export interface AwsMode {
  /** Call metrics (EMF on stdout, or nothing when `ROOMLINE_METRICS=off`). */
  readonly metrics: CallMetrics;
  /** The once-a-minute idle/busy sample of this worker. Not started: call `gauge.start()`. */
  readonly gauge: WorkerStateGauge;
  /** ECS task scale-in protection (a no-op off ECS). */
  readonly protection: TaskProtection;
  /** Trunk credentials from Secrets Manager. */
  readonly trunks: TrunkCredentialStore;
}

export interface CreateAwsModeOptions {
  /** AWS region for Secrets Manager. @default the SDK's own resolution (AWS_REGION on ECS) */
  readonly region?: string | undefined;
  /** Where EMF lines go. @default process.stdout */
  readonly write?: (line: string) => void;
  /** A Secrets Manager client to use instead of a new one (tests, custom endpoints). */
  readonly secretsManager?: SecretsManagerClient;
}

/** Builds the AWS-mode services from their configuration (see `loadAwsModeConfig`). */
export function createAwsMode(config: AwsModeConfig, options: CreateAwsModeOptions = {}): AwsMode {
  const write = config.metrics === 'emf' ? options.write : () => undefined;
  const metrics = new CallMetrics({
    namespace: config.metricsNamespace,
    deployment: config.metricsDeployment,
    ...(write === undefined ? {} : { write }),
  });
  const client =
    options.secretsManager ?? new SecretsManagerClient(options.region === undefined ? {} : { region: options.region });
  return {
    metrics,
    gauge: new WorkerStateGauge(metrics),
    protection: new TaskProtection({ agentUri: config.ecsAgentUri }),
    trunks: new TrunkCredentialStore({ client, prefix: config.trunkSecretPrefix }),
  };
}
