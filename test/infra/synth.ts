import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { RoomlineBridge, type RoomlineBridgeProps } from '../../infra/roomline-bridge.js';
import { RoomlineStack } from '../../infra/roomline-stack.js';

/** The app's own stack with every default, synthesized once per test file. */
export function synthDefaultStack(): { stack: RoomlineStack; template: Template } {
  const app = new App();
  const stack = new RoomlineStack(app, 'Roomline');
  return { stack, template: Template.fromStack(stack) };
}

/**
 * A bridge with the given props in a fresh stack. Images come from a registry (no asset staging) unless the props
 * say otherwise, to keep these tests quick.
 */
export function synthBridge(props: RoomlineBridgeProps = {}, stackName = 'Test'): { stack: Stack; bridge: RoomlineBridge; template: Template } {
  const app = new App();
  const stack = new Stack(app, stackName);
  const images: RoomlineBridgeProps =
    props.janusUrls === undefined
      ? { workerImage: ecs.ContainerImage.fromRegistry('example/roomline-worker'), janusImage: ecs.ContainerImage.fromRegistry('example/roomline-janus') }
      : { workerImage: ecs.ContainerImage.fromRegistry('example/roomline-worker') };
  const bridge = new RoomlineBridge(stack, 'Bridge', { ...images, ...props });
  return { stack, bridge, template: Template.fromStack(stack) };
}

/** The environment of the worker container, as a name → value map (values may be CloudFormation tokens). */
export function workerEnvironment(template: Template): Record<string, unknown> {
  const taskDefinitions = template.findResources('AWS::ECS::TaskDefinition');
  for (const resource of Object.values(taskDefinitions)) {
    const containers = (resource as { Properties: { ContainerDefinitions: { Name: string; Environment?: { Name: string; Value: unknown }[] }[] } }).Properties.ContainerDefinitions;
    const worker = containers.find((c) => c.Name === 'worker');
    if (worker !== undefined) return Object.fromEntries((worker.Environment ?? []).map((e) => [e.Name, e.Value]));
  }
  throw new Error('no worker container in the template');
}

/** The one resource of a type whose logical id contains `idPart`. */
export function resourceOf(template: Template, type: string, idPart: string): { id: string; Properties: Record<string, unknown> } {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.includes(idPart));
  if (matches.length !== 1) throw new Error(`expected one ${type} with "${idPart}" in its id, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  const [id, resource] = matches[0]!;
  return { id, Properties: (resource as { Properties: Record<string, unknown> }).Properties };
}
