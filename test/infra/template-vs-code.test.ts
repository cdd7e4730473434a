import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAB_BRIDGE_PROPS, labTemplate } from '../../lab/containers/lab-stack.js';
import { awsModeEnvSchema } from '../../worker/aws/aws-env.js';
import { workerEnvSchema } from '../../worker/config.js';

// The synthesized template against the programs that receive it: every variable a task definition sets is one its
// program reads, every port a security group opens is one its program listens on, and the worker's task role grants
// exactly the AWS operations the worker's code sends.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const template = labTemplate(LAB_BRIDGE_PROPS);

interface Container {
  readonly Name: string;
  readonly Environment?: readonly { readonly Name: string; readonly Value: unknown }[];
  readonly Secrets?: readonly { readonly Name: string }[];
  readonly SystemControls?: readonly { readonly Namespace: string; readonly Value: string }[];
}

function container(name: string): Container {
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::ECS::TaskDefinition') continue;
    const containers = (resource.Properties as unknown as { ContainerDefinitions: Container[] }).ContainerDefinitions;
    const found = containers.find((c) => c.Name === name);
    if (found !== undefined) return found;
  }
  throw new Error(`no container ${name} in the template`);
}

/** Every variable name a container is given, environment and secrets alike. */
function variablesOf(c: Container): string[] {
  return [...(c.Environment ?? []).map((e) => e.Name), ...(c.Secrets ?? []).map((s) => s.Name)].sort();
}

function literal(c: Container, name: string): string {
  const value = c.Environment?.find((e) => e.Name === name)?.Value;
  if (typeof value !== 'string') throw new Error(`${c.Name}'s ${name} is not a literal in the template`);
  return value;
}

/** The variables a shell entrypoint reads: `${NAME:-…}`, `${NAME:?}` and `$NAME`. */
function shellVariables(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return new Set([...text.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
}

interface Ingress {
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
  readonly description: string;
}

/** The ingress rules of the security group whose logical id contains `idPart` (inline and separate rules). */
function ingressOf(idPart: string): Ingress[] {
  const [groupId] = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::EC2::SecurityGroup' && id.includes(idPart)) ?? [];
  if (groupId === undefined) throw new Error(`no security group ${idPart}`);
  const rules: Record<string, unknown>[] = [];
  rules.push(...(((template.Resources[groupId]!.Properties as unknown as { SecurityGroupIngress?: Record<string, unknown>[] }).SecurityGroupIngress) ?? []));
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::EC2::SecurityGroupIngress') continue;
    const p = resource.Properties as unknown as { GroupId?: { 'Fn::GetAtt'?: [string, string] } };
    if (p.GroupId?.['Fn::GetAtt']?.[0] === groupId) rules.push(resource.Properties as unknown as Record<string, unknown>);
  }
  return rules.map((r) => ({ protocol: String(r['IpProtocol']), from: Number(r['FromPort']), to: Number(r['ToPort']), description: String(r['Description']) }));
}

function range(text: string, separator: string): { from: number; to: number } {
  const [from, to] = text.split(separator).map(Number);
  return { from: from!, to: to ?? from! };
}

describe('the template against the code', () => {
  it("gives the worker only variables its zod schemas know (they drop unknown keys, so a misspelt one would go unnoticed)", () => {
    // the worker's own schema and its AWS mode's, the two the worker parses its environment with on ECS
    const known = new Set([...Object.keys(workerEnvSchema.shape), ...Object.keys(awsModeEnvSchema.shape)]);
    const worker = variablesOf(container('worker'));
    expect(worker.length).toBeGreaterThan(10);
    expect(worker.filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives Janus and the registrar only variables their entrypoints read', () => {
    const janus = shellVariables('infra/janus-image/entrypoint.sh');
    const registrar = shellVariables('infra/registrar/entrypoint.sh');
    expect(variablesOf(container('janus')).filter((name) => !janus.has(name))).toEqual([]);
    expect(variablesOf(container('registrar')).filter((name) => !registrar.has(name))).toEqual([]);
    // and the ones they require are given
    expect(variablesOf(container('janus'))).toContain('JANUS_API_SECRET');
    expect(variablesOf(container('registrar'))).toEqual(expect.arrayContaining(['REGISTRAR_CONFIG_B64', 'DIAL_IN_PASSWORD', 'REGISTRAR_ADVERTISE']));
  });

  it("opens on the Janus nodes exactly the ports their configuration listens on", () => {
    const janus = container('janus');
    const rules = ingressOf('JanusSecurityGroup');
    const webrtc = range(literal(janus, 'JANUS_WEBRTC_PORTS'), '-');
    const sipRtp = range(literal(janus, 'JANUS_SIP_RTP_PORTS'), '-');
    const edge = Number(literal(janus, 'JANUS_SIP_EDGE_PORT'));
    const ws = Number(literal(janus, 'JANUS_WS_PORT'));
    // the SIP plugin binds each call's SIP stack to a port of the kernel's local range, which the task sets
    const localRange = janus.SystemControls?.find((s) => s.Namespace === 'net.ipv4.ip_local_port_range')?.Value;
    expect(localRange, 'the Janus task sets net.ipv4.ip_local_port_range').toBeDefined();
    const sipPorts = range(localRange!, ' ');
    expect(rules.map(({ protocol, from, to }) => ({ protocol, from, to })).sort((a, b) => a.from - b.from || a.protocol.localeCompare(b.protocol))).toEqual(
      [
        { protocol: 'udp', ...{ from: edge, to: edge } },
        { protocol: 'tcp', from: ws, to: ws },
        { protocol: 'udp', ...webrtc },
        { protocol: 'udp', ...sipRtp },
        { protocol: 'tcp', ...sipPorts },
        { protocol: 'udp', ...sipPorts },
      ].sort((a, b) => a.from - b.from || a.protocol.localeCompare(b.protocol)),
    );
  });

  it("opens on the registrar exactly the ports of the Kamailio configuration the template carries", () => {
    const config = Buffer.from(literal(container('registrar'), 'REGISTRAR_CONFIG_B64'), 'base64').toString('utf8');
    const listens = [...config.matchAll(/^listen=(udp|tcp):[^:\s]+:(\d+)/gm)].map((m) => `${m[1]}/${m[2]}`);
    const rules = ingressOf('DialInSecurityGroup').map((r) => {
      expect(r.from, r.description).toBe(r.to);
      return `${r.protocol.toLowerCase()}/${r.from}`;
    });
    expect([...new Set(rules)].sort()).toEqual([...new Set(listens)].sort());
  });

  it("grants the worker's task role exactly the AWS operations the worker's code sends", () => {
    const granted = new Set([...workerRoleActions()].map((a) => a.split('@')[0]!));
    const sent = operationsSent('worker/worker.ts');
    // operations of classes the worker shares with the client (SendMessage, DeleteItem of a QUEUED record whose message
    // was not sent) and with the routes CLI (Scan, and Put/Delete on routes), which the worker process never sends
    const notTheWorkers = new Set(['sqs:SendMessage', 'dynamodb:DeleteItem', 'dynamodb:Scan']);
    expect([...granted].filter((a) => !sent.has(a)), 'granted but never sent').toEqual([]);
    expect([...sent].filter((a) => !granted.has(a) && !notTheWorkers.has(a)), 'sent but not granted').toEqual([]);
    // the routes table: the worker only looks routes up
    expect([...workerRoleActions()].filter((a) => a.endsWith('@routes'))).toEqual(['dynamodb:BatchGetItem@routes']);
  });

  it('grants nothing but Query on the active-calls index', () => {
    const statements = workerRoleStatements();
    const onIndex = statements.filter((s) => JSON.stringify(s.resources).includes('/index/'));
    expect(onIndex.flatMap((s) => s.actions)).toEqual(['dynamodb:Query']);
  });
});

interface Statement {
  readonly actions: string[];
  readonly resources: unknown[];
}

function workerRoleStatements(): Statement[] {
  const worker = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::ECS::TaskDefinition' && (r.Properties as unknown as { ContainerDefinitions: Container[] }).ContainerDefinitions.some((c) => c.Name === 'worker'),
  );
  const roleId = ((worker?.Properties as unknown as { TaskRoleArn?: { 'Fn::GetAtt': [string] } }).TaskRoleArn?.['Fn::GetAtt'][0]) ?? '';
  const statements: Statement[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const p = resource.Properties as unknown as { Roles: { Ref: string }[]; PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
    if (!p.Roles.some((r) => r.Ref === roleId)) continue;
    for (const s of p.PolicyDocument.Statement) {
      statements.push({ actions: [s.Action].flat(), resources: [s.Resource].flat() });
    }
  }
  if (statements.length === 0) throw new Error(`no policy on the worker's task role ${roleId}`);
  return statements;
}

/** `service:Action`, with `@routes` for item actions on the routes table (whose writers are the CLI's). */
function workerRoleActions(): Set<string> {
  const routesTable = Object.keys(template.Resources).find((id) => template.Resources[id]!.Type === 'AWS::DynamoDB::Table' && id.includes('Routes'));
  return new Set(
    workerRoleStatements().flatMap((s) => {
      const onRoutes = routesTable !== undefined && JSON.stringify(s.resources).includes(routesTable);
      // the CDK's own grants (logs, ECR pulls go to the execution role); KMS decrypt of an encrypted queue is the queue's
      return s.actions.filter((a) => !a.startsWith('kms:')).map((a) => (onRoutes ? `${a}@routes` : a));
    }),
  );
}

/** The DynamoDB document client's commands as the item operations IAM authorizes. */
const DOCUMENT_COMMANDS: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  Scan: 'Scan',
  Query: 'Query',
};
const SERVICE_OF_PACKAGE: Readonly<Record<string, string>> = {
  'client-sqs': 'sqs',
  'client-dynamodb': 'dynamodb',
  'lib-dynamodb': 'dynamodb',
  'client-secrets-manager': 'secretsmanager',
  'client-chime-sdk-meetings': 'chime',
};

/**
 * Every AWS operation sent by a file reachable from `entry` through its relative imports: `new XCommand(` and
 * `paginateX(` of the SDK packages each file imports, as `service:Operation`.
 */
function operationsSent(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [resolve(ROOT, entry)];
  const operations = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts');
      if (existsSync(target)) pending.push(target);
    }
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/([a-z-]+)'/g)) {
      const service = SERVICE_OF_PACKAGE[m[2]!];
      if (service === undefined) continue;
      for (const name of m[1]!.split(',').map((n) => n.trim())) {
        const command = /^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1];
        if (command === undefined || !new RegExp(`(new ${name}\\(|${name}\\()`).test(text)) continue;
        const operation = m[2] === 'lib-dynamodb' ? DOCUMENT_COMMANDS[command] : command;
        if (operation === undefined) throw new Error(`${relative(ROOT, file)}: no IAM operation known for ${name}`);
        operations.add(`${service}:${operation}`);
      }
    }
  }
  return operations;
}
