import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import type { Construct } from 'constructs';
import { RoomlineBridge, type RoomlineBridgeProps } from './roomline-bridge.js';

/**
 * Context keys `cdk deploy -c roomline:<key>=<value>` accepts. Lists are comma-separated; everything else the construct
 * offers is reachable by using `RoomlineBridge` in your own app.
 */
export const CONTEXT_KEYS = {
  minIdleWorkers: 'roomline:minIdleWorkers',
  maxWorkers: 'roomline:maxWorkers',
  janusUrls: 'roomline:janusUrls',
  janusNodes: 'roomline:janusNodes',
  sipPeerCidrs: 'roomline:sipPeerCidrs',
  rtpPeerCidrs: 'roomline:rtpPeerCidrs',
  sipFrom: 'roomline:sipFrom',
  alarmEmails: 'roomline:alarmEmails',
  roomHosts: 'roomline:roomHosts',
  sipHosts: 'roomline:sipHosts',
} as const;

/** Reads the bridge props given as CDK context; a malformed number is an error naming the key. */
export function bridgePropsFromContext(node: Node): RoomlineBridgeProps {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const list = (key: string) => text(key)?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const int = (key: string) => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`context ${key} must be a whole number, got "${value}"`);
    return Number(value);
  };
  const props = {
    minIdleWorkers: int(CONTEXT_KEYS.minIdleWorkers),
    maxWorkers: int(CONTEXT_KEYS.maxWorkers),
    janusUrls: list(CONTEXT_KEYS.janusUrls),
    janusNodes: int(CONTEXT_KEYS.janusNodes),
    sipPeerCidrs: list(CONTEXT_KEYS.sipPeerCidrs),
    rtpPeerCidrs: list(CONTEXT_KEYS.rtpPeerCidrs),
    sipFrom: text(CONTEXT_KEYS.sipFrom),
    alarmEmails: list(CONTEXT_KEYS.alarmEmails),
    roomHosts: list(CONTEXT_KEYS.roomHosts),
    sipHosts: list(CONTEXT_KEYS.sipHosts),
  };
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as RoomlineBridgeProps;
}

export interface RoomlineStackProps extends StackProps {
  readonly bridge?: RoomlineBridgeProps;
}

/** A stack holding one Roomline bridge, with the outputs a calling service needs. */
export class RoomlineStack extends Stack {
  readonly bridge: RoomlineBridge;

  constructor(scope: Construct, id: string, props: RoomlineStackProps = {}) {
    super(scope, id, props);
    this.bridge = new RoomlineBridge(this, 'Bridge', props.bridge ?? {});
    new CfnOutput(this, 'DialQueueUrl', { value: this.bridge.queue.queueUrl, description: 'ROOMLINE_QUEUE_URL for clients' });
    new CfnOutput(this, 'DialQueueArn', { value: this.bridge.queue.queueArn, description: 'Grant sqs:SendMessage on this to calling services' });
    new CfnOutput(this, 'CallsTableName', { value: this.bridge.table.tableName, description: 'ROOMLINE_TABLE for clients' });
    new CfnOutput(this, 'EventBusName', { value: this.bridge.eventBus.eventBusName, description: 'Bus of Roomline Call State Changed events' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.bridge.alarmTopic.topicArn });
    new CfnOutput(this, 'JanusLink', {
      value: this.bridge.janusTransport,
      description: 'How workers reach Janus: wss (TLS), or ws inside the VPC (security groups: workers only; Janus API secret required)',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.bridge.dashboard.dashboardName}`,
    });
  }
}
