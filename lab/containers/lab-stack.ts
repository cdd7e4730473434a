import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { RoomlineBridgeProps } from '../../infra/bridge-props.js';
import { RoomlineStack } from '../../infra/roomline-stack.js';
import { LAB_JANUS_IP, LAB_PEER_IP } from '../netns.js';
import type { CfnTemplate } from './task-definitions.js';

/** The internet as the lab's VPC sees it: the lab's own namespace (its room server and phone). */
export const LAB_INTERNET_CIDR = '10.77.0.0/24';

/**
 * The props a user of the lab's internet would deploy with: the room server and the phone in the allow-lists (they
 * are on private addresses, which `*` refuses), the phone's network as the SIP peers' and the dial-in trunk's, dial-in
 * on. The images are registry references that the lab replaces with its own builds (no asset is staged); everything
 * else is the construct's default.
 */
export const LAB_BRIDGE_PROPS: RoomlineBridgeProps = {
  roomHosts: [LAB_JANUS_IP],
  sipHosts: [LAB_PEER_IP],
  sipPeerCidrs: [LAB_INTERNET_CIDR],
  dialIn: { trunkCidrs: [LAB_INTERNET_CIDR], registrarImage: ecs.ContainerImage.fromRegistry('roomline/registrar') },
  workerImage: ecs.ContainerImage.fromRegistry('roomline/worker'),
  janusImage: ecs.ContainerImage.fromRegistry('roomline/janus'),
};

/** The app's stack with those props, synthesized; its template as CloudFormation would receive it. */
export function labTemplate(props: RoomlineBridgeProps = LAB_BRIDGE_PROPS): CfnTemplate {
  const app = new App();
  const stack = new RoomlineStack(app, 'Roomline', { bridge: props });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}
