import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ERROR_CODES, ERROR_CODE_NAMES, type ErrorCode } from '../../contracts/errors.js';
import { METRIC_DIMENSIONS, METRICS, type MetricKey } from '../../worker/aws/metric-names.js';
import type { ResolvedBridgeProps } from '../resolved-bridge-props.js';

/** Error codes that are the bridge's own fault: these feed the failure-rate alarm. */
export const OWN_FAULT_CODES: readonly ErrorCode[] = ERROR_CODE_NAMES.filter((code) => ERROR_CODES[code].fault === 'us');
/** Fewest calls started within the failure-rate window before the rate can alarm. */
export const FAILURE_RATE_MIN_CALLS = 5;

export interface ObservabilityProps {
  readonly config: ResolvedBridgeProps;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly workerService: ecs.FargateService;
  readonly janusService: ecs.FargateService | undefined;
  readonly alarmTopic: sns.ITopic | undefined;
}

/**
 * The call-health dashboard and the alarms (to an SNS topic): dial requests parked in the DLQ, dial requests waiting
 * too long, no idle worker, and too many calls failing through the bridge's own fault.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmTopic: sns.ITopic;
  readonly alarms: {
    readonly deadLetters: cloudwatch.Alarm;
    readonly queueAge: cloudwatch.Alarm;
    readonly noIdleWorkers: cloudwatch.Alarm;
    readonly failureRate: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;
    this.alarmTopic = props.alarmTopic ?? this.#createTopic();
    for (const email of config.alarmEmails) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));

    const metric = (key: MetricKey, statistic: string, extra: Record<string, string> = {}, label?: string) =>
      new cloudwatch.Metric({
        namespace: config.metricsNamespace,
        metricName: METRICS[key].name,
        dimensionsMap: { [METRIC_DIMENSIONS.deployment]: config.deploymentName, ...extra },
        statistic,
        period: Duration.minutes(1),
        ...(label === undefined ? {} : { label }),
      });
    const failedBy = (code: ErrorCode, period: Duration) =>
      metric('callsFailed', 'Sum', { [METRIC_DIMENSIONS.reason]: code }, code).with({ period });

    const queueAge = props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
    const queueVisible = props.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
    const idleWorkers = metric('idleWorkers', 'Sum', {}, 'Idle workers');
    const busyWorkers = metric('busyWorkers', 'Sum', {}, 'Busy workers');

    const deadLetters = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'Dial requests were parked in the dead-letter queue: they failed every delivery. Inspect and redrive or delete them.',
      metric: dlqDepth,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const queueAgeAlarm = new cloudwatch.Alarm(this, 'QueueAgeAlarm', {
      alarmDescription: `A dial request waited more than ${config.queueAgeAlarmThreshold.toSeconds()} s for a worker: the warm pool is too small or workers cannot start.`,
      metric: queueAge,
      threshold: config.queueAgeAlarmThreshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const noIdleWorkers = new cloudwatch.Alarm(this, 'NoIdleWorkersAlarm', {
      alarmDescription: 'No worker was idle for 3 minutes: new dial requests wait for a worker to start (or maxWorkers is reached).',
      metric: metric('idleWorkers', 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const window = Duration.minutes(5);
    const ownFailures = Object.fromEntries(OWN_FAULT_CODES.map((code, i) => [`f${i}`, failedBy(code, window)]));
    const started = metric('callsStarted', 'Sum').with({ period: window });
    const failureRateExpression = new cloudwatch.MathExpression({
      expression: `IF(started >= ${FAILURE_RATE_MIN_CALLS}, 100 * (${Object.keys(ownFailures).map((k) => `FILL(${k}, 0)`).join(' + ')}) / started, 0)`,
      usingMetrics: { started, ...ownFailures },
      period: window,
      label: 'Calls failed through the bridge (%)',
    });
    const failureRate = new cloudwatch.Alarm(this, 'FailureRateAlarm', {
      alarmDescription: `More than ${config.failureRateAlarmPercent}% of calls failed through the bridge's own fault (${OWN_FAULT_CODES.join(', ')}) within 5 minutes.`,
      metric: failureRateExpression,
      threshold: config.failureRateAlarmPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = { deadLetters, queueAge: queueAgeAlarm, noIdleWorkers, failureRate };
    for (const alarm of Object.values(this.alarms)) {
      alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `Roomline-${config.deploymentName}`,
      defaultInterval: Duration.hours(3),
    });
    const wide = 12;
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Calls per minute',
        width: wide,
        left: [
          metric('callsStarted', 'Sum', {}, 'Started'),
          metric('callsConnected', 'Sum', {}, 'Connected'),
          metric('callsEnded', 'Sum', {}, 'Ended'),
          metric('callsFailed', 'Sum', {}, 'Failed'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Failed calls by reason',
        width: wide,
        stacked: true,
        left: ERROR_CODE_NAMES.map((code) => failedBy(code, Duration.minutes(1))),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Setup time (receive to answer, ms)',
        width: 8,
        left: [metric('setupTime', 'p50', {}, 'p50'), metric('setupTime', 'p95', {}, 'p95')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Call duration (s)',
        width: 8,
        left: [metric('callDuration', 'p50', {}, 'p50'), metric('callDuration', 'p95', {}, 'p95'), metric('callDuration', 'Maximum', {}, 'max')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Audio quality received',
        width: 8,
        left: [
          metric('sipAudioLoss', 'Average', {}, 'SIP loss %'),
          metric('sipAudioConcealment', 'Average', {}, 'SIP concealment %'),
          metric('roomAudioLoss', 'Average', {}, 'Room loss %'),
        ],
        right: [metric('sipAudioJitter', 'p95', {}, 'SIP jitter p95 ms'), metric('roomAudioJitter', 'p95', {}, 'Room jitter p95 ms')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Warm pool',
        width: 8,
        left: [idleWorkers, busyWorkers],
        leftAnnotations: [{ value: config.minIdleWorkers, label: 'minIdleWorkers' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dial queue',
        width: 8,
        left: [queueAge.with({ label: 'Oldest waiting request (s)' })],
        right: [queueVisible.with({ label: 'Waiting requests' }), dlqDepth.with({ label: 'Dead letters' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker CPU and memory (%)',
        width: 8,
        left: [
          props.workerService.metricCpuUtilization({ period: Duration.minutes(1), label: 'CPU' }),
          props.workerService.metricMemoryUtilization({ period: Duration.minutes(1), label: 'Memory' }),
        ],
      }),
    );
    if (props.janusService !== undefined) {
      const janus = props.janusService;
      const insights = (name: string, label: string) =>
        new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName: name,
          dimensionsMap: { ClusterName: janus.cluster.clusterName, ServiceName: janus.serviceName },
          statistic: 'Average',
          period: Duration.minutes(1),
          label,
        });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Janus nodes (healthy = running)',
          width: wide,
          left: [insights('RunningTaskCount', 'Running'), insights('DesiredTaskCount', 'Desired')],
        }),
        new cloudwatch.GraphWidget({
          title: 'Janus CPU and memory (%)',
          width: wide,
          left: [
            janus.metricCpuUtilization({ period: Duration.minutes(1), label: 'CPU' }),
            janus.metricMemoryUtilization({ period: Duration.minutes(1), label: 'Memory' }),
          ],
        }),
      );
    }
  }

  /** A topic encrypted with its own key, which CloudWatch alarms may use, publishing over TLS only. */
  #createTopic(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Roomline alarm topic encryption',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Roomline alarms',
      masterKey: key,
      enforceSSL: true,
    });
  }
}
