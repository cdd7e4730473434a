import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RoomlineStack, bridgePropsFromContext } from './roomline-stack.js';

/**
 * The CDK app: one Roomline stack, environment-agnostic (no account or region lookups, so `cdk synth` works offline),
 * checked by cdk-nag's AwsSolutions rules on every synth. Stack name: context `roomline:stackName` (default "Roomline").
 */
const app = new App();
const stackName = String(app.node.tryGetContext('roomline:stackName') ?? 'Roomline');
new RoomlineStack(app, stackName, {
  bridge: bridgePropsFromContext(app.node),
  description: 'Roomline: WebRTC rooms to SIP phones (dial queue, warm worker pool, Janus, call events, dashboard)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
