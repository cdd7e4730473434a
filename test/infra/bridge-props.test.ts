import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { RoomlineBridge, RoomlineBridgePropsError, type RoomlineBridgeProps } from '../../infra/roomline-bridge.js';
import { CONTEXT_KEYS, RoomlineStack, bridgePropsFromContext } from '../../infra/roomline-stack.js';
import { resourceOf, synthBridge, workerEnvironment } from './synth.js';

/** Builds a bridge with the props and returns the error it throws at synth time. */
function rejection(props: RoomlineBridgeProps): unknown {
  try {
    new RoomlineBridge(new Stack(new App(), 'Test'), 'Bridge', props);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('RoomlineBridge rejects invalid or conflicting props at synth', () => {
  const secret = (stack: Stack) => secretsmanager.Secret.fromSecretNameV2(stack, 'Ice', 'roomline/ice');
  const cases: readonly [string, (stack: Stack) => RoomlineBridgeProps, RegExp][] = [
    ['a deployment name that is no dimension value', () => ({ deploymentName: 'my deployment!' }), /deploymentName must be 1-64 letters/],
    ['zero receives before the DLQ', () => ({ maxReceiveCount: 0 }), /maxReceiveCount must be an integer from 1 to 1000, got 0/],
    ['a fractional receive count', () => ({ maxReceiveCount: 2.5 }), /maxReceiveCount must be an integer/],
    ['a visibility timeout under 10 s', () => ({ visibilityTimeout: Duration.seconds(5) }), /visibilityTimeout must be from 10 seconds to 12 hours/],
    ['a visibility timeout no longer than the call lease', () => ({ visibilityTimeout: Duration.seconds(15) }), /visibilityTimeout \(15 s\) must be longer than callLease \(20 s\)/],
    ['a call lease shorter than three request timeouts', () => ({ callLease: Duration.seconds(6), visibilityTimeout: Duration.seconds(10) }), /the workers' request timeout \(3000 ms\) must be at most a third of callLease \(6 s\)/],
    ['no sweep interval', () => ({ sweepInterval: Duration.seconds(0) }), /sweepInterval must be a whole number of seconds from 1 to 3600/],
    ['a dial retention under a minute', () => ({ dialRetention: Duration.seconds(30) }), /dialRetention must be from 1 minute to 14 days/],
    ['a record TTL of 0 days', () => ({ recordTtlDays: 0 }), /recordTtlDays must be a positive integer/],
    ['a warm pool without idle workers', () => ({ minIdleWorkers: 0 }), /minIdleWorkers must be an integer of at least 1/],
    ['fewer workers at most than idle at least', () => ({ minIdleWorkers: 5, maxWorkers: 3 }), /maxWorkers \(3\) must be at least minIdleWorkers \(5\)/],
    ['a worker size Fargate does not offer', () => ({ workerCpu: 1024, workerMemoryMiB: 1024 }), /workerCpu 1024 with workerMemoryMiB 1024 is not a Fargate task size/],
    ['an unknown kind of worker media', () => ({ workerMedia: 'screen' as 'audio' }), /workerMedia must be one of audio, video, got "screen"/],
    ['a stop timeout too short for a clean hangup', () => ({ workerStopTimeout: Duration.seconds(5) }), /workerStopTimeout must be from 10 to 120 seconds/],
    ['a stop timeout beyond Fargate limit', () => ({ workerStopTimeout: Duration.minutes(3) }), /workerStopTimeout must be from 10 to 120 seconds/],
    ['a From that is no SIP URI', () => ({ sipFrom: 'roomline@example.com' }), /sipFrom must be a sip: or sips: URI/],
    ['ICE servers given twice', (s) => ({ iceServers: [{ urls: 'stun:stun.example.com' }], iceServersSecret: secret(s) }), /iceServers and iceServersSecret conflict/],
    ['TURN credentials in plain props', () => ({ iceServers: [{ urls: 'turn:turn.example.com', credential: 'x' } as never] }), /iceServers must not carry credentials/],
    ['an unknown log level', () => ({ logLevel: 'verbose' as never }), /logLevel must be one of/],
    ['a trunk prefix with characters secrets cannot have', () => ({ trunkSecretPrefix: 'trunks*' }), /trunkSecretPrefix must contain only characters allowed/],
    ['a metrics namespace of AWS', () => ({ metricsNamespace: 'AWS/ECS' }), /metricsNamespace must be a custom CloudWatch namespace/],
    ['existing Janus URLs together with Janus cluster props', () => ({ janusUrls: ['ws://janus.example.com:8188'], janusNodes: 3, sipPeerCidrs: ['203.0.113.0/24'] }), /janusUrls \(existing Janus servers\) conflicts with janusNodes, sipPeerCidrs/],
    ['an empty Janus URL list', () => ({ janusUrls: [] }), /janusUrls must list at least one URL/],
    ['a Janus URL that is not WebSocket', () => ({ janusUrls: ['http://janus.example.com:8088'] }), /"http:\/\/janus.example.com:8088" must be a ws:\/\/ or wss:\/\/ URL/],
    ['a Janus URL with credentials', () => ({ janusUrls: ['wss://user:pw@janus.example.com'] }), /must be a ws:\/\/ or wss:\/\/ URL without credentials/],
    ['no Janus node', () => ({ janusNodes: 0 }), /janusNodes must be an integer from 1 to 100/],
    ['a Janus size Fargate does not offer', () => ({ janusCpu: 256, janusMemoryMiB: 4096 }), /janusCpu 256 with janusMemoryMiB 4096 is not a Fargate task size/],
    ['a SIP peer that is no CIDR', () => ({ sipPeerCidrs: ['sip.example.com'] }), /sipPeerCidrs: "sip.example.com" is not an IPv4 CIDR/],
    ['an RTP peer with a bad prefix length', () => ({ rtpPeerCidrs: ['198.51.100.0/40'] }), /rtpPeerCidrs: "198.51.100.0\/40" is not an IPv4 CIDR/],
    ['a reversed port range', () => ({ sipRtpPorts: { from: 30000, to: 20000 } }), /sipRtpPorts must be a range of ports from 1024 to 65535 with from <= to/],
    ['SIP ports overlapping the WebRTC ports', () => ({ sipSignalingPorts: { from: 10500, to: 11500 } }), /sipSignalingPorts \(10500-11500\) overlap the WebRTC ports \(10000-10999\)/],
    ['a namespace that is no DNS name', () => ({ serviceDiscoveryNamespace: 'Roomline_Internal' }), /serviceDiscoveryNamespace must be a lower-case DNS name/],
    ['an alarm email without a domain', () => ({ alarmEmails: ['ops'] }), /alarmEmails: "ops" is not an email address/],
    ['a queue-age threshold of zero', () => ({ queueAgeAlarmThreshold: Duration.seconds(0) }), /queueAgeAlarmThreshold must be from 1 second to 1 day/],
    ['a failure rate above 100%', () => ({ failureRateAlarmPercent: 150 }), /failureRateAlarmPercent must be above 0 and at most 100/],
  ];

  it.each(cases)('rejects %s', (_name, makeProps, message) => {
    // Prepare
    const stack = new Stack(new App(), 'Props');
    const props = makeProps(stack);

    // Act
    const error = rejection(props);

    // Assess
    expect(error).toBeInstanceOf(RoomlineBridgePropsError);
    expect((error as Error).message).toMatch(message);
  });

  it('lists every problem at once', () => {
    // Prepare
    const props: RoomlineBridgeProps = { maxReceiveCount: 0, minIdleWorkers: 0, sipFrom: 'x' };

    // Act
    const error = rejection(props);

    // Assess
    const lines = (error as Error).message.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toHaveLength(3);
  });
});

describe('RoomlineBridge with props set', () => {
  it('uses existing Janus servers instead of running a cluster', () => {
    // Prepare
    const janusUrls = ['wss://janus-a.example.com/ws', 'wss://janus-b.example.com/ws'];

    // Act
    const { template, bridge } = synthBridge({ janusUrls });

    // Assess
    expect(workerEnvironment(template)['ROOMLINE_JANUS_URLS']).toBe(janusUrls.join(','));
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(bridge.janusService).toBeUndefined();
    expect(bridge.janusUrls).toEqual(janusUrls);
  });

  it('opens SIP to the trunk CIDRs (UDP to the SIP edge, TCP to the SIP plugin\'s ports) and RTP to the media CIDRs, on the configured ports', () => {
    // Prepare
    const props: RoomlineBridgeProps = {
      sipPeerCidrs: ['203.0.113.0/24'],
      rtpPeerCidrs: ['198.51.100.0/24', '192.0.2.10/32'],
      sipSignalingPorts: { from: 41000, to: 41499 },
      sipRtpPorts: { from: 22000, to: 22999 },
    };

    // Act
    const { template } = synthBridge(props);

    // Assess
    const group = resourceOf(template, 'AWS::EC2::SecurityGroup', 'BridgeJanusSecurityGroup');
    const rules = (group.Properties['SecurityGroupIngress'] as { CidrIp: string; IpProtocol: string; FromPort: number; ToPort: number }[]).map(
      (r) => `${r.CidrIp} ${r.IpProtocol} ${r.FromPort}-${r.ToPort}`,
    );
    expect(rules.sort()).toEqual(
      ['203.0.113.0/24 udp 5060-5060', '203.0.113.0/24 tcp 41000-41499', '198.51.100.0/24 udp 22000-22999', '192.0.2.10/32 udp 22000-22999'].sort(),
    );
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'janus', SystemControls: [{ Namespace: 'net.ipv4.ip_local_port_range', Value: '41000 41499' }] })],
    });
  });

  it('warns at synth when the Janus cluster has no SIP peer CIDRs, and not when it has', () => {
    // Prepare
    const warnings = (props: RoomlineBridgeProps) =>
      Annotations.fromStack(synthBridge(props).stack).findWarning('*', Match.stringLikeRegexp('sipPeerCidrs is empty'));

    // Act
    const without = warnings({});
    const withPeers = warnings({ sipPeerCidrs: ['203.0.113.0/24'] });

    // Assess
    expect(without).toHaveLength(1);
    expect(withPeers).toHaveLength(0);
  });

  it('lets RTP in from the SIP peers when no media CIDRs are given', () => {
    // Prepare
    const props: RoomlineBridgeProps = { sipPeerCidrs: ['203.0.113.0/24'] };

    // Act
    const { template } = synthBridge(props);

    // Assess
    const group = resourceOf(template, 'AWS::EC2::SecurityGroup', 'BridgeJanusSecurityGroup');
    expect(group.Properties['SecurityGroupIngress']).toContainEqual(expect.objectContaining({ CidrIp: '203.0.113.0/24', IpProtocol: 'udp', FromPort: 20000, ToPort: 20999 }));
  });

  it('injects the ICE server list from a secret instead of the environment', () => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'Ice');
    const iceServersSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Ice', 'roomline/ice');

    // Act
    new RoomlineBridge(stack, 'Bridge', { iceServersSecret, janusUrls: ['ws://janus.example.com:8188'], workerImage: undefined });
    const template = Template.fromStack(stack);

    // Assess
    expect(workerEnvironment(template)).not.toHaveProperty('ROOMLINE_ICE_SERVERS');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'worker', Secrets: [{ Name: 'ROOMLINE_ICE_SERVERS', ValueFrom: Match.anyValue() }] })],
    });
  });

  it('passes STUN servers to the worker as JSON', () => {
    // Prepare
    const iceServers = [{ urls: ['stun:stun.example.com:3478'] }];

    // Act
    const { template } = synthBridge({ iceServers });

    // Assess
    expect(JSON.parse(String(workerEnvironment(template)['ROOMLINE_ICE_SERVERS']))).toEqual(iceServers);
  });

  it('sizes the queue, pool and workers from the props and tells the worker the same receive count, lease and sweep interval', () => {
    // Prepare
    const props: RoomlineBridgeProps = {
      maxReceiveCount: 5,
      visibilityTimeout: Duration.seconds(45),
      callLease: Duration.seconds(25),
      sweepInterval: Duration.seconds(5),
      minIdleWorkers: 4,
      maxWorkers: 50,
      workerCpu: 2048,
      workerMemoryMiB: 4096,
      workerStopTimeout: Duration.seconds(60),
      recordTtlDays: 7,
      logLevel: 'debug',
      sipFrom: 'sip:bridge@example.com',
    };

    // Act
    const { template } = synthBridge(props);

    // Assess
    expect(resourceOf(template, 'AWS::SQS::Queue', 'BridgeDialQueue').Properties).toMatchObject({ VisibilityTimeout: 45, RedrivePolicy: { maxReceiveCount: 5 } });
    expect(workerEnvironment(template)).toMatchObject({
      ROOMLINE_MAX_RECEIVES: '5',
      ROOMLINE_VISIBILITY_TIMEOUT_S: '45',
      ROOMLINE_LEASE_S: '25',
      ROOMLINE_SWEEP_INTERVAL_S: '5',
      ROOMLINE_AWS_REQUEST_TIMEOUT_MS: '3000',
      ROOMLINE_RECORD_TTL_DAYS: '7',
      ROOMLINE_LOG_LEVEL: 'debug',
      ROOMLINE_SIP_FROM: 'sip:bridge@example.com',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 4, MaxCapacity: 50 });
    expect(JSON.stringify(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))).toContain('FILL(waiting, 0) + 4) / desired');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '2048', Memory: '4096', ContainerDefinitions: [Match.objectLike({ Name: 'worker', StopTimeout: 60 })] });
  });

  it('sizes an audio-only deployment\'s workers at 0.5 vCPU and 1 GiB, the smallest Fargate size holding a measured audio call with 1.5x headroom', () => {
    // Act
    const audio = synthBridge({ workerMedia: 'audio' }).template;
    const video = synthBridge({ workerMedia: 'video' }).template;

    // Assess
    audio.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '512', Memory: '1024', ContainerDefinitions: [Match.objectLike({ Name: 'worker' })] });
    video.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '2048', ContainerDefinitions: [Match.objectLike({ Name: 'worker' })] });
  });

  it('uses the given VPC, event bus and alarm topic instead of creating them, and subscribes the alarm emails', () => {
    // Prepare
    const app = new App();
    const shared = new Stack(app, 'Shared');
    const vpc = new ec2.Vpc(shared, 'Vpc', { maxAzs: 2 });
    const eventBus = new events.EventBus(shared, 'Bus');
    const alarmTopic = new sns.Topic(shared, 'Topic');
    const stack = new Stack(app, 'Bridge');

    // Act
    new RoomlineBridge(stack, 'Bridge', { vpc, eventBus, alarmTopic, alarmEmails: ['ops@example.com'], janusUrls: ['ws://janus.example.com:8188'] });
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    Template.fromStack(shared).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(JSON.stringify(resourceOf(template, 'AWS::Pipes::Pipe', 'Pipe').Properties['Target'])).toContain('Bus');
  });

  it('names the metrics dimension and the dashboard after the deployment name, and can drop the table with the stack', () => {
    // Prepare
    const props: RoomlineBridgeProps = { deploymentName: 'eu-prod', tableRemovalPolicy: RemovalPolicy.DESTROY, metricsNamespace: 'Acme/Roomline' };

    // Act
    const { template } = synthBridge(props);

    // Assess
    expect(workerEnvironment(template)).toMatchObject({ ROOMLINE_METRICS_DEPLOYMENT: 'eu-prod', ROOMLINE_METRICS_NAMESPACE: 'Acme/Roomline' });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Roomline-eu-prod' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IdleWorkers', Namespace: 'Acme/Roomline', Dimensions: [{ Name: 'Deployment', Value: 'eu-prod' }] });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('sets the failure-rate and queue-age alarm thresholds from the props', () => {
    // Prepare
    const props: RoomlineBridgeProps = { failureRateAlarmPercent: 25, queueAgeAlarmThreshold: Duration.minutes(2) };

    // Act
    const { template } = synthBridge(props);

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 120 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: Match.anyValue(), Threshold: 25 });
  });
});

describe('the app stack reads its parameters from CDK context', () => {
  it('turns context values into bridge props', () => {
    // Prepare
    const app = new App({
      context: {
        [CONTEXT_KEYS.minIdleWorkers]: '3',
        [CONTEXT_KEYS.maxWorkers]: 40,
        [CONTEXT_KEYS.sipPeerCidrs]: '203.0.113.0/24, 198.51.100.7/32',
        [CONTEXT_KEYS.alarmEmails]: 'ops@example.com',
        [CONTEXT_KEYS.sipFrom]: 'sip:bridge@example.com',
      },
    });

    // Act
    const props = bridgePropsFromContext(app.node);

    // Assess
    expect(props).toEqual({
      minIdleWorkers: 3,
      maxWorkers: 40,
      sipPeerCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
      alarmEmails: ['ops@example.com'],
      sipFrom: 'sip:bridge@example.com',
    });
  });

  it('names the context key of a value that is not a number', () => {
    // Prepare
    const app = new App({ context: { [CONTEXT_KEYS.maxWorkers]: 'lots' } });

    // Act
    const read = () => bridgePropsFromContext(app.node);

    // Assess
    expect(read).toThrow('context roomline:maxWorkers must be a whole number, got "lots"');
  });

  it('outputs what a calling service needs: queue URL and ARN, table, bus, topic, dashboard URL, and how workers reach Janus', () => {
    // Prepare
    const app = new App();

    // Act
    const stack = new RoomlineStack(app, 'Outputs', { bridge: { janusUrls: ['ws://janus.example.com:8188'] } });
    const outputs = Template.fromStack(stack).findOutputs('*');

    // Assess
    expect(Object.keys(outputs).sort()).toEqual(['AlarmTopicArn', 'CallsTableName', 'DashboardUrl', 'DialQueueArn', 'DialQueueUrl', 'EventBusName', 'JanusLink'].sort());
    expect(outputs['JanusLink']?.['Value']).toBe('ws');
    expect(JSON.stringify(outputs['DashboardUrl'])).toMatch(/"#dashboards:name=",\{"Ref":"BridgeObservabilityDashboard[0-9A-F]+"\}/);
  });
});
