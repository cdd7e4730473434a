import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CONTEXT_KEYS, RoomlineStack, bridgePropsFromContext } from '../../infra/roomline-stack.js';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, it } from 'vitest';
import { RoomlineBridge, type RoomlineBridgeProps } from '../../infra/roomline-bridge.js';
import { synthBridge, workerEnvironment } from './synth.js';

const dialIn: RoomlineBridgeProps['dialIn'] = {
  trunkCidrs: ['203.0.113.0/24'],
  registrarImage: ecs.ContainerImage.fromRegistry('example/roomline-registrar'),
};

describe('RoomlineBridge with dial-in', () => {
  const { template } = synthBridge({ dialIn });

  it('creates the routes table keyed by route id, on demand, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'routeId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('puts the registrar behind an internet-facing network load balancer with an Elastic IP per zone and a UDP SIP listener', () => {
    template.resourceCountIs('AWS::EC2::EIP', 3); // two for the load balancer's zones, one for the NAT gateway
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
      SubnetMappings: Match.arrayWith([Match.objectLike({ AllocationId: Match.anyValue() })]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 5060, Protocol: 'UDP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 5060, Protocol: 'UDP', TargetType: 'ip' });
  });

  it('admits SIP to the registrar only from the trunk CIDRs', () => {
    const groups = Object.values(template.findResources('AWS::EC2::SecurityGroup')) as { Properties: { GroupDescription: string; SecurityGroupIngress?: { CidrIp?: string; FromPort?: number; IpProtocol: string }[] } }[];
    const registrar = groups.find((g) => g.Properties.GroupDescription.includes('dial-in registrar'));
    expect(registrar).toBeDefined();
    const udp5060 = (registrar!.Properties.SecurityGroupIngress ?? []).filter((r) => r.IpProtocol === 'udp' && r.FromPort === 5060);
    expect(udp5060.map((r) => r.CidrIp)).toEqual(['203.0.113.0/24']);
    expect(JSON.stringify(registrar!.Properties.SecurityGroupIngress)).not.toContain('0.0.0.0/0');
  });

  it('counts rejected inbound calls from the registrar log and alarms on them to the alarm topic', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '"dial-in-rejected"',
      MetricTransformations: [Match.objectLike({ MetricName: 'DialInRejected', MetricValue: '1' })],
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'DialInRejected' } })) as {
      Properties: { Threshold: number; ComparisonOperator: string; AlarmActions?: unknown[] };
    }[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(alarms[0]!.Properties.AlarmActions).toHaveLength(1);
  });

  it('tells the workers where to register and which routes table to read, the password as a secret', () => {
    const environment = workerEnvironment(template);
    expect(environment['ROOMLINE_DIAL_IN_REGISTRAR']).toBe('sip:registrar.roomline.internal:5070');
    expect(environment['ROOMLINE_DIAL_IN_AOR']).toBe('sip:inbound@dial-in.roomline.internal');
    expect(environment['ROOMLINE_ROUTES_TABLE']).toBeDefined();
    expect(environment['ROOMLINE_DIAL_IN_SECRET']).toBeUndefined();
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Name: 'worker', Secrets: Match.arrayWith([Match.objectLike({ Name: 'ROOMLINE_DIAL_IN_SECRET' })]) }),
      ]),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'dynamodb:BatchGetItem' })]) },
    });
  });

  it('turns dial-in on from the app\'s context and outputs the static addresses and the routes table', () => {
    const app = new App({ context: { [CONTEXT_KEYS.dialInTrunkCidrs]: '203.0.113.0/24, 198.51.100.7/32' } });
    const stack = new RoomlineStack(app, 'Roomline', {
      bridge: { ...bridgePropsFromContext(app.node), workerImage: ecs.ContainerImage.fromRegistry('example/w'), janusImage: ecs.ContainerImage.fromRegistry('example/j'), dialIn: { trunkCidrs: ['203.0.113.0/24', '198.51.100.7/32'], registrarImage: ecs.ContainerImage.fromRegistry('example/r') } },
    });
    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(bridgePropsFromContext(app.node).dialIn).toEqual({ trunkCidrs: ['203.0.113.0/24', '198.51.100.7/32'] });
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['DialInAddresses', 'RoutesTableName']));
  });

  it('makes nothing for dial-in without the prop', () => {
    const plain = synthBridge().template;
    plain.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    expect(workerEnvironment(plain)['ROOMLINE_DIAL_IN_REGISTRAR']).toBeUndefined();
  });

  it.each([
    ['existing Janus servers', { janusUrls: ['wss://janus.example.com/'], dialIn }, /dialIn needs the Janus cluster/],
    ['no trunk CIDRs', { dialIn: { trunkCidrs: [] } }, /dialIn.trunkCidrs must list the trunks/],
    ['a trunk that is no CIDR', { dialIn: { trunkCidrs: ['sip.example.com'] } }, /dialIn.trunkCidrs: "sip.example.com" is not an IPv4 CIDR/],
  ] as const)('rejects dial-in with %s at synth', (_name, props, message) => {
    expect(() => new RoomlineBridge(new Stack(new App(), 'Test'), 'Bridge', props as RoomlineBridgeProps)).toThrow(message);
  });
});
