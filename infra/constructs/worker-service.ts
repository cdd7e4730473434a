import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CALLS_TABLE } from '../../worker/calls-table.js';
import { METRIC_DIMENSIONS, METRICS } from '../../worker/aws/metric-names.js';
import { WORKER_AWS_REQUEST_TIMEOUT_MS } from '../bridge-props.js';
import type { ResolvedBridgeProps } from '../resolved-bridge-props.js';
import { SERVICE_DEPLOYMENT } from './service-defaults.js';
import {
  WARM_POOL_METRIC_IDS,
  WARM_POOL_STEP_SCALE_OUT,
  WARM_POOL_TARGET_TRACKING,
  warmPoolDemandExpression,
  warmPoolScaleOutSteps,
  warmPoolShortfallExpression,
} from '../warm-pool-scaling.js';

/** Where Debian's Chromium lives in the worker image. */
export const WORKER_CHROMIUM_PATH = '/usr/bin/chromium';
/** The unprivileged user the worker image runs Chromium as (ROOMLINE_CHROMIUM_USER); the Dockerfile creates it. */
export const WORKER_BROWSER_USER = 'roomline-browser';
/**
 * The worker image's setpriv that switches Chromium to that user (ROOMLINE_CHROMIUM_SETPRIV): a copy of setpriv with
 * CAP_SETUID and CAP_SETGID as file capabilities, executable by the worker's group only, not by the browser's.
 */
export const WORKER_SETPRIV_PATH = '/usr/local/libexec/roomline/setpriv';

export interface WorkerServiceProps {
  readonly cluster: ecs.ICluster;
  readonly vpc: ec2.IVpc;
  readonly image: ecs.ContainerImage;
  readonly queue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  readonly janusUrls: readonly string[];
  /** The Janus API secret (ROOMLINE_JANUS_API_SECRET), injected from Secrets Manager. @default none */
  readonly janusApiSecret?: secretsmanager.ISecret | undefined;
  /** The outbound proxy of dialled calls, as the Janus nodes reach it (ROOMLINE_SIP_OUTBOUND_PROXY). @default none */
  readonly sipOutboundProxy?: string | undefined;
  readonly config: ResolvedBridgeProps;
  /** Dial-in: where idle workers register, as what, with which password, and the routes they read. */
  readonly dialIn?: {
    readonly registrarUri: string;
    readonly aor: string;
    readonly secret: secretsmanager.ISecret;
    readonly routesTable: dynamodb.ITable;
  };
}

/**
 * The worker service: Fargate tasks in private subnets, each taking one call and exiting, replaced by the service.
 *
 * Warm pool scaling: one target-tracking policy on a metric-math expression that sets the desired count to
 * `busy workers + waiting dial requests + minIdleWorkers` (the expression divides that by the current desired count,
 * and target tracking multiplies capacity by metric / target). Busy workers come from the workers' own per-minute
 * `BusyWorkers` samples, waiting requests from the queue's visible messages, the desired count from Container Insights.
 * CPU plays no part. Busy tasks protect themselves from scale-in (ECS task scale-in protection), so scaling in stops
 * idle tasks only. Beside it, a step scale-out on the shortfall (`busy + waiting + minIdleWorkers - desired`) reacts to
 * one datapoint instead of target tracking's three, so a burst beyond the idle pool starts its tasks two minutes
 * sooner. The numbers and the expressions live in `../warm-pool-scaling.ts`, which the planner simulates.
 */
export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  readonly scalingPolicy: appscaling.CfnScalingPolicy;
  readonly stepScaleOut: appscaling.StepScalingPolicy;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: config.logRetention });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: config.workerCpu,
      memoryLimitMiB: config.workerMemoryMiB,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    });
    const environment: Record<string, string> = {
      AWS_REGION: Aws.REGION,
      ROOMLINE_QUEUE_URL: props.queue.queueUrl,
      ROOMLINE_TABLE: props.table.tableName,
      ROOMLINE_JANUS_URLS: props.janusUrls.join(','),
      ...(props.sipOutboundProxy === undefined ? {} : { ROOMLINE_SIP_OUTBOUND_PROXY: props.sipOutboundProxy }),
      ROOMLINE_CHROMIUM_PATH: WORKER_CHROMIUM_PATH,
      ROOMLINE_SIP_FROM: config.sipFrom,
      ROOMLINE_MAX_RECEIVES: String(config.maxReceiveCount),
      ROOMLINE_VISIBILITY_TIMEOUT_S: String(config.visibilityTimeout.toSeconds()),
      ROOMLINE_LEASE_S: String(config.callLease.toSeconds()),
      ROOMLINE_SWEEP_INTERVAL_S: String(config.sweepInterval.toSeconds()),
      ROOMLINE_AWS_REQUEST_TIMEOUT_MS: String(WORKER_AWS_REQUEST_TIMEOUT_MS),
      ROOMLINE_RECORD_TTL_DAYS: String(config.recordTtlDays),
      ROOMLINE_IDLE_EXIT_S: '0',
      ROOMLINE_LOG_LEVEL: config.logLevel,
      ROOMLINE_METRICS: 'emf',
      ROOMLINE_METRICS_NAMESPACE: config.metricsNamespace,
      ROOMLINE_METRICS_DEPLOYMENT: config.deploymentName,
      ROOMLINE_TRUNK_SECRET_PREFIX: config.trunkSecretPrefix,
      ...(config.iceServersSecret === undefined ? { ROOMLINE_ICE_SERVERS: JSON.stringify(config.iceServers) } : {}),
      ROOMLINE_ROOM_HOSTS: config.roomHosts,
      ROOMLINE_SIP_HOSTS: config.sipHosts,
      // Chromium's sandbox cannot start on Fargate (see RoomlineBridgeProps.chromiumSandbox): this is the explicit opt-out
      ROOMLINE_CHROMIUM_SANDBOX: config.chromiumSandbox ? 'on' : 'off',
      ROOMLINE_CHROMIUM_USER: WORKER_BROWSER_USER,
      ROOMLINE_CHROMIUM_SETPRIV: WORKER_SETPRIV_PATH,
      ...(props.dialIn === undefined
        ? {}
        : {
            ROOMLINE_DIAL_IN_REGISTRAR: props.dialIn.registrarUri,
            ROOMLINE_DIAL_IN_AOR: props.dialIn.aor,
            ROOMLINE_ROUTES_TABLE: props.dialIn.routesTable.tableName,
          }),
    };
    const secrets: Record<string, ecs.Secret> = {
      ...(config.iceServersSecret === undefined ? {} : { ROOMLINE_ICE_SERVERS: ecs.Secret.fromSecretsManager(config.iceServersSecret) }),
      ...(props.janusApiSecret === undefined ? {} : { ROOMLINE_JANUS_API_SECRET: ecs.Secret.fromSecretsManager(props.janusApiSecret) }),
      ...(props.dialIn === undefined ? {} : { ROOMLINE_DIAL_IN_SECRET: ecs.Secret.fromSecretsManager(props.dialIn.secret) }),
    };
    this.taskDefinition.addContainer('worker', {
      image: props.image,
      essential: true,
      environment,
      ...(Object.keys(secrets).length === 0 ? {} : { secrets }),
      stopTimeout: config.workerStopTimeout,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'worker', mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
    });

    // Least privilege, the calls the worker makes and no more (test/infra/template-vs-code.test.ts holds the two
    // equal): receive, extend and delete dial messages (the queue URL comes from the environment, so no GetQueueUrl);
    // read and write call records by key, and query the active index (item actions on the table, Query on the index).
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
        resources: [props.queue.queueArn],
      }),
    );
    if (props.queue.encryptionMasterKey !== undefined) props.queue.encryptionMasterKey.grantDecrypt(this.taskDefinition.taskRole);
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [props.table.tableArn] }),
    );
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${props.table.tableArn}/index/${CALLS_TABLE.activeIndexName}`] }),
    );
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${config.trunkSecretPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );

    // Dial-in: look routes up (BatchGetItem) by key, never scan
    if (props.dialIn !== undefined) {
      this.taskDefinition.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:BatchGetItem'], resources: [props.dialIn.routesTable.tableArn] }),
      );
    }

    // Chime joins by meetingId: read the meeting, make and delete the bot's attendees. Meetings are made by the
    // caller's own service, in any control region, so the narrowest resource is this account's meetings.
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['chime:GetMeeting', 'chime:CreateAttendee', 'chime:DeleteAttendee'],
        resources: [CHIME_MEETINGS_ARN(stack)],
      }),
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Roomline workers: no inbound except WebRTC media from the Janus nodes',
      allowAllOutbound: true,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      securityGroups: [this.securityGroup],
      ...SERVICE_DEPLOYMENT,
    });

    const scalable = this.service.autoScaleTaskCount({ minCapacity: config.minIdleWorkers, maxCapacity: config.maxWorkers });
    const scalableTarget = scalable.node.findChild('Target') as appscaling.ScalableTarget;
    this.scalingPolicy = new appscaling.CfnScalingPolicy(this, 'WarmPoolScaling', {
      policyName: `${stack.stackName}-warm-pool`.slice(0, 255),
      policyType: 'TargetTrackingScaling',
      scalingTargetId: scalableTarget.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: WARM_POOL_TARGET_TRACKING.targetValue,
        scaleOutCooldown: WARM_POOL_TARGET_TRACKING.scaleOutCooldownS,
        scaleInCooldown: WARM_POOL_TARGET_TRACKING.scaleInCooldownS,
        customizedMetricSpecification: {
          metrics: [
            {
              id: WARM_POOL_METRIC_IDS.busy,
              label: 'Workers in a call',
              returnData: false,
              metricStat: {
                stat: 'Sum',
                metric: {
                  namespace: config.metricsNamespace,
                  metricName: METRICS.busyWorkers.name,
                  dimensions: [{ name: METRIC_DIMENSIONS.deployment, value: config.deploymentName }],
                },
              },
            },
            {
              id: WARM_POOL_METRIC_IDS.waiting,
              label: 'Dial requests waiting',
              returnData: false,
              metricStat: {
                stat: 'Maximum',
                metric: {
                  namespace: 'AWS/SQS',
                  metricName: 'ApproximateNumberOfMessagesVisible',
                  dimensions: [{ name: 'QueueName', value: props.queue.queueName }],
                },
              },
            },
            {
              id: WARM_POOL_METRIC_IDS.desired,
              label: 'Desired worker tasks',
              returnData: false,
              metricStat: {
                stat: 'Average',
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'DesiredTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: props.cluster.clusterName },
                    { name: 'ServiceName', value: this.service.serviceName },
                  ],
                },
              },
            },
            {
              id: 'demand',
              label: 'Needed workers as percent of desired',
              returnData: true,
              expression: warmPoolDemandExpression(config.minIdleWorkers),
            },
          ],
        },
      },
    });

    // the step scale-out: the same inputs, one datapoint, the missing workers added at once (scale-in stays above)
    const period = Duration.seconds(WARM_POOL_TARGET_TRACKING.periodS);
    const shortfall = new cloudwatch.MathExpression({
      expression: warmPoolShortfallExpression(config.minIdleWorkers),
      usingMetrics: {
        [WARM_POOL_METRIC_IDS.busy]: new cloudwatch.Metric({
          namespace: config.metricsNamespace,
          metricName: METRICS.busyWorkers.name,
          dimensionsMap: { [METRIC_DIMENSIONS.deployment]: config.deploymentName },
          statistic: 'Sum',
          period,
        }),
        [WARM_POOL_METRIC_IDS.waiting]: props.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
        [WARM_POOL_METRIC_IDS.desired]: new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName: 'DesiredTaskCount',
          dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: this.service.serviceName },
          statistic: 'Average',
          period,
        }),
      },
      period,
      label: 'Workers missing from the desired count',
    });
    this.stepScaleOut = scalableTarget.scaleOnMetric('WarmPoolStepScaleOut', {
      metric: shortfall,
      scalingSteps: warmPoolScaleOutSteps().map((step) => ({ ...step })),
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.seconds(WARM_POOL_STEP_SCALE_OUT.cooldownS),
      evaluationPeriods: WARM_POOL_STEP_SCALE_OUT.datapoints,
      datapointsToAlarm: WARM_POOL_STEP_SCALE_OUT.datapoints,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
    });
  }
}

/** Every Chime SDK meeting of the stack's account, in any region (the resource the Chime SDK Meetings API acts on). */
export const CHIME_MEETINGS_ARN = (stack: { readonly account: string; readonly partition: string }): string =>
  `arn:${stack.partition}:chime:*:${stack.account}:meeting/*`;
