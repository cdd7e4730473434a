import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { RoomlineStack } from '../../infra/roomline-stack.js';
import type { RoomlineBridgeProps } from '../../infra/roomline-bridge.js';

interface IamStatement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
}

/** The app's stack with the given bridge props, checked by cdk-nag's AwsSolutions rules. */
function checkedStack(bridge: RoomlineBridgeProps = {}) {
  const app = new App();
  const stack = new RoomlineStack(app, 'Roomline', { bridge });
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  return { stack, report };
}

/** Every IAM statement of the template (policies and inline role policies). */
function iamStatements(stack: Stack): IamStatement[] {
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const statements: IamStatement[] = [];
  for (const resource of Object.values(template.Resources)) {
    const documents: { Statement: IamStatement[] }[] = [];
    if (resource.Type === 'AWS::IAM::Policy') documents.push(resource.Properties['PolicyDocument'] as { Statement: IamStatement[] });
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of (resource.Properties['Policies'] as { PolicyDocument: { Statement: IamStatement[] } }[] | undefined) ?? []) documents.push(policy.PolicyDocument);
    }
    for (const document of documents) statements.push(...document.Statement);
  }
  return statements;
}

/** IAM actions AWS authorizes only on `Resource: "*"`. */
const ACTIONS_WITHOUT_RESOURCE_LEVEL = new Set(['ecr:GetAuthorizationToken', 'ec2:DescribeSecurityGroups']);

describe('cdk-nag AwsSolutions on the app', () => {
  const configurations: readonly [string, RoomlineBridgeProps][] = [
    ['with every default', {}],
    ['with trunk CIDRs and alarm emails', { sipPeerCidrs: ['203.0.113.0/24'], alarmEmails: ['ops@example.com'] }],
    ['with existing Janus servers', { janusUrls: ['wss://janus.example.com/ws'] }],
    ['with dial-in', { sipPeerCidrs: ['203.0.113.0/24'], dialIn: { trunkCidrs: ['203.0.113.0/24'] } }],
  ];

  it.each(configurations)('finds no unacknowledged problem %s', (_name, props) => {
    // Prepare / Act
    const { report } = checkedStack(props);

    // Assess
    const problems = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);
    expect(problems).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('catches a problem nobody acknowledged (the check is live)', async () => {
    // Prepare
    const { Queue } = await import('aws-cdk-lib/aws-sqs');
    const app = new App();
    const stack = new Stack(app, 'Unsafe');
    new Queue(stack, 'Plain', { enforceSSL: false });

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(stack);

    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining([expect.stringContaining('SQS3'), expect.stringContaining('SQS4')]));
  });

  it('gives a reason for every acknowledged finding', () => {
    // Prepare
    const { stack } = checkedStack();

    // Act
    const acknowledgements = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    // Assess
    const nagAcknowledgements = acknowledgements.filter(([id]) => id.includes('AwsSolutions-'));
    expect(nagAcknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of nagAcknowledgements) expect(reason.length, `reason of ${id}`).toBeGreaterThan(20);
  });

  it('grants no IAM statement on every action, and "*" resources only to actions AWS cannot narrow', () => {
    // Prepare
    const { stack } = checkedStack();

    // Act
    const statements = iamStatements(stack);

    // Assess
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      expect(actions).not.toContain('*');
      for (const action of actions) expect(action).not.toMatch(/:\*$/);
      if ([statement.Resource].flat().includes('*')) {
        for (const action of actions) expect(ACTIONS_WITHOUT_RESOURCE_LEVEL.has(action), `${action} on "*"`).toBe(true);
      }
    }
  });
});
