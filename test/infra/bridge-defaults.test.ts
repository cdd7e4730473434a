import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CALLS_TABLE } from '../../worker/calls-table.js';
import { OWN_FAULT_CODES } from '../../infra/constructs/observability.js';
import { resourceOf, synthDefaultStack, workerEnvironment } from './synth.js';

/** Every default of RoomlineBridge, as deployed by the app's stack (named "Roomline") with no context. */
describe('RoomlineBridge defaults', () => {
  let template: Template;

  beforeAll(() => {
    // Prepare / Act (one synth for the whole file)
    template = synthDefaultStack().template;
  });

  describe('network', () => {
    it('creates a VPC over 2 AZs with public and private subnets, one NAT gateway and a flow log of rejected traffic', () => {
      // Assess
      template.resourceCountIs('AWS::EC2::VPC', 1);
      template.resourceCountIs('AWS::EC2::Subnet', 4);
      template.resourceCountIs('AWS::EC2::NatGateway', 1);
      template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs' });
    });
  });

  describe('dial queue', () => {
    it('encrypts the queue and its DLQ and refuses requests without TLS', () => {
      // Assess
      const queues = template.findResources('AWS::SQS::Queue');
      expect(Object.keys(queues).length).toBeGreaterThanOrEqual(2);
      for (const queue of Object.values(queues)) {
        expect((queue as { Properties: { SqsManagedSseEnabled?: boolean } }).Properties.SqsManagedSseEnabled).toBe(true);
      }
      const policies = template.findResources('AWS::SQS::QueuePolicy');
      expect(Object.keys(policies)).toHaveLength(Object.keys(queues).length);
      for (const policy of Object.values(policies)) {
        expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
      }
    });

    it('parks a message in the DLQ after 3 receives, keeps a received message invisible 30 s, long-polls 20 s and drops unclaimed requests after 15 minutes', () => {
      // Assess
      const queue = resourceOf(template, 'AWS::SQS::Queue', 'BridgeDialQueue');
      const dlq = resourceOf(template, 'AWS::SQS::Queue', 'BridgeDialDeadLetterQueue');
      expect(queue.Properties).toMatchObject({
        VisibilityTimeout: 30,
        ReceiveMessageWaitTimeSeconds: 20,
        MessageRetentionPeriod: 900,
        RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: { 'Fn::GetAtt': [dlq.id, 'Arn'] } },
      });
      expect(dlq.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600 });
    });
  });

  describe('calls table', () => {
    it('is on-demand with point-in-time recovery, TTL on expiresAt, a new-and-old-image stream and the sparse active index', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: CALLS_TABLE.partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: CALLS_TABLE.ttlAttribute, Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        GlobalSecondaryIndexes: [
          {
            IndexName: CALLS_TABLE.activeIndexName,
            KeySchema: [
              { AttributeName: CALLS_TABLE.activeIndexPartitionKey, KeyType: 'HASH' },
              { AttributeName: CALLS_TABLE.activeIndexSortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      });
    });

    it('is kept when the stack is deleted', () => {
      // Assess
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });
  });

  describe('worker service', () => {
    it('runs workers of 1 vCPU and 2 GiB from the image built from the repository Dockerfile, with 30 s between SIGTERM and SIGKILL', () => {
      // Assess
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: '1024',
        Memory: '2048',
        RequiresCompatibilities: ['FARGATE'],
        ContainerDefinitions: [
          Match.objectLike({
            Name: 'worker',
            Image: Match.objectLike({ 'Fn::Sub': Match.stringLikeRegexp('cdk-hnb659fds-container-assets') }),
            StopTimeout: 30,
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          }),
        ],
      });
    });

    it('configures the worker through its environment with the queue, table, Janus URL, limits and AWS-mode settings', () => {
      // Assess
      const env = workerEnvironment(template);
      expect(env).toMatchObject({
        ROOMLINE_QUEUE_URL: { Ref: expect.stringContaining('BridgeDialQueue') },
        ROOMLINE_TABLE: { Ref: expect.stringContaining('BridgeCallsTable') },
        ROOMLINE_JANUS_URLS: 'ws://janus.roomline.internal:8188',
        ROOMLINE_CHROMIUM_PATH: '/usr/bin/chromium',
        ROOMLINE_SIP_FROM: 'sip:roomline@roomline.invalid',
        ROOMLINE_ICE_SERVERS: '[]',
        ROOMLINE_MAX_RECEIVES: '3',
        ROOMLINE_VISIBILITY_TIMEOUT_S: '30',
        ROOMLINE_RECORD_TTL_DAYS: '30',
        ROOMLINE_LOG_LEVEL: 'info',
        ROOMLINE_METRICS: 'emf',
        ROOMLINE_METRICS_NAMESPACE: 'Roomline',
        ROOMLINE_METRICS_DEPLOYMENT: 'Roomline',
        ROOMLINE_TRUNK_SECRET_PREFIX: 'roomline/trunks/',
      });
      expect(env).not.toHaveProperty('ROOMLINE_WORKER_ID');
    });

    it('runs the workers in private subnets without public addresses, replacing them before stopping old ones', () => {
      // Assess
      const service = resourceOf(template, 'AWS::ECS::Service', 'BridgeWorkersService');
      expect(service.Properties).toMatchObject({
        LaunchType: 'FARGATE',
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
        DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200 },
      });
      const subnets = (service.Properties['NetworkConfiguration'] as { AwsvpcConfiguration: { Subnets: { Ref: string }[] } }).AwsvpcConfiguration.Subnets;
      expect(subnets.map((s) => s.Ref)).toEqual([expect.stringContaining('workers'), expect.stringContaining('workers')]);
    });

    it('keeps between 2 and 20 worker tasks, scaling on busy workers and waiting requests plus 2 idle (target tracking and a step scale-out), never on CPU', () => {
      // Assess
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 20, ScalableDimension: 'ecs:service:DesiredCount' });
      template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { PolicyType: 'StepScaling' });
      const policy = resourceOf(template, 'AWS::ApplicationAutoScaling::ScalingPolicy', 'WarmPoolScaling');
      const config = policy.Properties['TargetTrackingScalingPolicyConfiguration'] as {
        TargetValue: number;
        CustomizedMetricSpecification: { Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string } } }[] };
      };
      expect(config.TargetValue).toBe(100);
      const metrics = config.CustomizedMetricSpecification.Metrics;
      expect(metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [`${m.MetricStat.Metric.Namespace}/${m.MetricStat.Metric.MetricName}`]))).toEqual([
        'Roomline/BusyWorkers',
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        'ECS/ContainerInsights/DesiredTaskCount',
      ]);
      expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe('100 * (FILL(busy, 0) + FILL(waiting, 0) + 2) / desired');
      expect(JSON.stringify(policy)).not.toMatch(/CPUUtilization/);
      expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toMatch(/CPUUtilization/);
    });

    it('turns on Container Insights, which the scaling metric and dashboard read', () => {
      // Assess
      template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    });

    it('lets the worker consume the queue, write call records and read only the trunk secrets', () => {
      // Assess
      const policy = resourceOf(template, 'AWS::IAM::Policy', 'BridgeWorkersTaskTaskRoleDefaultPolicy');
      const statements = (policy.Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;
      const actions = statements.flatMap((s) => [s.Action].flat());
      expect(actions).toEqual(
        expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']),
      );
      expect(actions).not.toContain('dynamodb:DeleteItem');
      const secretStatement = statements.find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
      expect(JSON.stringify(secretStatement?.Resource)).toContain(':secret:roomline/trunks/*');
    });

    it('lets the worker get Chime meetings and add or delete attendees of this account\'s meetings only', () => {
      // Assess
      const policy = resourceOf(template, 'AWS::IAM::Policy', 'BridgeWorkersTaskTaskRoleDefaultPolicy');
      const statements = (policy.Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;
      const chime = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('chime:')));
      expect(chime).toHaveLength(1);
      expect([chime[0]!.Action].flat().sort()).toEqual(['chime:CreateAttendee', 'chime:DeleteAttendee', 'chime:GetMeeting']);
      expect(JSON.stringify(chime[0]!.Resource)).toMatch(/:chime:\*:",\{"Ref":"AWS::AccountId"\},":meeting\/\*"/);
    });

    it('keeps worker and Janus logs for 30 days', () => {
      // Assess
      for (const id of ['BridgeWorkersLogs', 'BridgeJanusLogs']) {
        expect(resourceOf(template, 'AWS::Logs::LogGroup', id).Properties['RetentionInDays']).toBe(30);
      }
    });
  });

  describe('Janus cluster', () => {
    it('runs 2 Janus nodes of 0.5 vCPU and 1 GiB in public subnets with public addresses, registered in Cloud Map', () => {
      // Assess
      const service = resourceOf(template, 'AWS::ECS::Service', 'BridgeJanusService');
      expect(service.Properties).toMatchObject({
        DesiredCount: 2,
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } },
        ServiceRegistries: [expect.anything()],
      });
      template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'roomline.internal' });
      template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
        Name: 'janus',
        DnsConfig: Match.objectLike({ DnsRecords: [{ Type: 'A', TTL: 10 }] }),
      });
      template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '512', Memory: '1024', ContainerDefinitions: [Match.objectLike({ Name: 'janus' })] });
    });

    it('builds Janus from infra/janus-image, with a health check, SIP ports 40000-40999 and SIP media ports 20000-20999', () => {
      // Assess
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            Name: 'janus',
            Image: Match.objectLike({ 'Fn::Sub': Match.stringLikeRegexp('cdk-hnb659fds-container-assets') }),
            HealthCheck: Match.objectLike({ Command: ['CMD-SHELL', Match.stringLikeRegexp('/janus/info')] }),
            SystemControls: [{ Namespace: 'net.ipv4.ip_local_port_range', Value: '40000 40999' }],
            Environment: Match.arrayWith([{ Name: 'JANUS_SIP_RTP_PORTS', Value: '20000-20999' }]),
          }),
        ],
      });
    });

    it('opens the WebSocket API and WebRTC ports to the workers only, and no SIP or RTP port to anyone', () => {
      // Assess
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(
        (r) => (r as { Properties: Record<string, unknown> }).Properties,
      );
      expect(ingress.map((r) => `${String(r['IpProtocol'])}:${String(r['FromPort'])}-${String(r['ToPort'])}`).sort()).toEqual(
        ['tcp:8188-8188', 'udp:0-65535', 'udp:10000-10999'].sort(),
      );
      for (const rule of ingress) expect(rule).toHaveProperty('SourceSecurityGroupId');
      const inlineIngress = Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap(
        (r) => (r as { Properties: { SecurityGroupIngress?: unknown[] } }).Properties.SecurityGroupIngress ?? [],
      );
      expect(inlineIngress).toEqual([]);
    });
  });

  describe('call events', () => {
    it('creates an event bus fed by a pipe from the table stream, keeping inserts and modifications, through the enrichment function', () => {
      // Assess
      template.resourceCountIs('AWS::Events::EventBus', 1);
      const pipe = resourceOf(template, 'AWS::Pipes::Pipe', 'BridgeEventsPipe');
      expect(pipe.Properties).toMatchObject({
        Source: { 'Fn::GetAtt': [expect.stringContaining('BridgeCallsTable'), 'StreamArn'] },
        Enrichment: { 'Fn::GetAtt': [expect.stringContaining('BridgeEventsEnrichment'), 'Arn'] },
        Target: { 'Fn::GetAtt': [expect.stringContaining('BridgeEventsBus'), 'Arn'] },
        SourceParameters: {
          FilterCriteria: { Filters: [{ Pattern: '{"eventName":["INSERT","MODIFY"]}' }] },
          DynamoDBStreamParameters: expect.objectContaining({ StartingPosition: 'LATEST', DeadLetterConfig: expect.anything() }),
        },
        TargetParameters: { EventBridgeEventBusParameters: { Source: 'roomline', DetailType: 'Roomline Call State Changed' } },
      });
    });
  });

  describe('alarms and dashboard', () => {
    it('sends the alarms to a new topic encrypted with its own key and publishing over TLS only, with no subscription', () => {
      // Assess
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      expect(JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'))).toContain('"aws:SecureTransport":"false"');
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('alarms on dead letters, a request waiting over 30 s, no idle worker for 3 minutes and over 10% own-fault failures', () => {
      // Assess
      const all = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => (r as { Properties: Record<string, unknown> }).Properties);
      // the fifth alarm is the warm pool's step scale-out, whose action is its scaling policy
      const alarms = all.filter((a) => JSON.stringify(a['AlarmActions']).includes('AlarmTopic'));
      expect(alarms).toHaveLength(4);
      expect(all).toHaveLength(5);
      expect(JSON.stringify(all.find((a) => !alarms.includes(a))?.['AlarmActions'])).toContain('WarmPoolStepScaleOut');
      const byMetric = (name: string) => alarms.find((a) => a['MetricName'] === name);
      expect(byMetric('ApproximateNumberOfMessagesVisible')).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(byMetric('ApproximateAgeOfOldestMessage')).toMatchObject({ Threshold: 30, ComparisonOperator: 'GreaterThanThreshold' });
      expect(byMetric('IdleWorkers')).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        TreatMissingData: 'breaching',
        Namespace: 'Roomline',
        Dimensions: [{ Name: 'Deployment', Value: 'Roomline' }],
      });
      const rate = alarms.find((a) => a['Metrics'] !== undefined);
      expect(rate).toMatchObject({ Threshold: 10, ComparisonOperator: 'GreaterThanThreshold' });
      const reasons = JSON.stringify(rate?.['Metrics']);
      for (const code of OWN_FAULT_CODES) expect(reasons).toContain(`"Value":"${code}"`);
      expect(reasons).not.toContain('"Value":"SIP_BUSY"');
      for (const alarm of alarms) {
        expect(alarm['AlarmActions']).toEqual([{ Ref: expect.stringContaining('AlarmTopic') }]);
        expect(alarm['OKActions']).toEqual([{ Ref: expect.stringContaining('AlarmTopic') }]);
      }
    });

    it('draws a dashboard named after the deployment with calls, failures by reason, setup time, duration, quality, pool, queue, DLQ, worker and Janus health', () => {
      // Assess
      const dashboard = resourceOf(template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
      expect(dashboard.Properties['DashboardName']).toBe('Roomline-Roomline');
      const body = JSON.stringify(dashboard.Properties['DashboardBody']);
      for (const text of [
        'CallsStarted',
        'CallsConnected',
        'CallsFailed',
        'Reason',
        'SetupTime',
        'p50',
        'p95',
        'CallDuration',
        'SipAudioLoss',
        'SipAudioJitter',
        'IdleWorkers',
        'ApproximateAgeOfOldestMessage',
        'ApproximateNumberOfMessagesVisible',
        'CPUUtilization',
        'MemoryUtilization',
        'RunningTaskCount',
      ]) {
        expect(body).toContain(text);
      }
    });
  });
});
