import type { IngressRule } from './vpc.js';

/**
 * The ECS services of a synthesized CloudFormation template, read as ECS would run them: each service's task
 * definition (size, the one container's environment, secrets, stop timeout, health check, system controls), its
 * network (security groups, public IP, Cloud Map name, load balancer), and the security groups' ingress rules.
 * Values that CloudFormation resolves at deploy time (`Ref`, `Fn::GetAtt`, `Fn::Join`) are resolved against the lab:
 * a reference the lab has no stand-in for is an error that names it, never a guess.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Resource = { readonly Type: string; readonly Properties?: Record<string, Json>; readonly Metadata?: Record<string, Json> };
export interface CfnTemplate {
  readonly Resources: Record<string, Resource>;
}

/** What a `Ref` or `Fn::GetAtt` of a resource (or a pseudo parameter) is in the lab. */
export interface LabBindings {
  /** `Ref` of a resource by logical id, or of a pseudo parameter (AWS::Region...). */
  readonly ref: (logicalId: string) => string | undefined;
  /** `Fn::GetAtt` of a resource. */
  readonly attribute: (logicalId: string, attribute: string) => string | undefined;
}

/** Resolves a template value to a string; throws naming what the lab cannot resolve. */
export function resolveValue(value: Json | undefined, bindings: LabBindings, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const [fn, arg] = Object.entries(value)[0] ?? [];
    if (fn === 'Ref' && typeof arg === 'string') {
      const resolved = bindings.ref(arg);
      if (resolved === undefined) throw new Error(`${where}: the lab has no stand-in for {"Ref": "${arg}"}`);
      return resolved;
    }
    if (fn === 'Fn::GetAtt' && Array.isArray(arg) && typeof arg[0] === 'string' && typeof arg[1] === 'string') {
      const resolved = bindings.attribute(arg[0], arg[1]);
      if (resolved === undefined) throw new Error(`${where}: the lab has no stand-in for {"Fn::GetAtt": ["${arg[0]}", "${arg[1]}"]}`);
      return resolved;
    }
    if (fn === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string' && Array.isArray(arg[1])) {
      return arg[1].map((part) => resolveValue(part, bindings, where)).join(arg[0]);
    }
    if (fn === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [id, attribute] = name.split('.');
        return resolveValue(attribute === undefined ? { Ref: id ?? '' } : { 'Fn::GetAtt': [id ?? '', attribute] }, bindings, where);
      });
    }
  }
  throw new Error(`${where}: the lab cannot resolve ${JSON.stringify(value).slice(0, 200)}`);
}

export interface TaskHealthCheck {
  /** The command as the task definition gives it, e.g. ["CMD-SHELL", "curl ... || exit 1"]. */
  readonly command: readonly string[];
  readonly intervalS: number;
  readonly timeoutS: number;
  readonly retries: number;
  readonly startPeriodS: number;
}

/** A service's task definition with its one container. */
export interface TaskDefinition {
  readonly logicalId: string;
  readonly containerName: string;
  /** CPU units (1024 = one vCPU) and memory in MiB, as the task asks. */
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Environment values, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  /** Secrets: the variable and the secret's ARN (ValueFrom), resolved. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly stopTimeoutS: number;
  readonly healthCheck: TaskHealthCheck | undefined;
  readonly systemControls: readonly { readonly namespace: string; readonly value: string }[];
  /** Capabilities added beyond Docker's default set (LinuxParameters.Capabilities.Add). */
  readonly addedCapabilities: readonly string[];
  /** Logical ids of the task's roles: what its containers call AWS as, and what ECS starts it as (secrets). */
  readonly taskRole: string | undefined;
  readonly executionRole: string | undefined;
}

export interface EcsService {
  readonly logicalId: string;
  readonly task: TaskDefinition;
  readonly desiredCount: number | undefined;
  readonly securityGroups: readonly string[];
  readonly assignPublicIp: boolean;
  /** The Cloud Map name its healthy tasks are registered under (A records), when it has one. */
  readonly cloudMapName: string | undefined;
  /** Load balancer listeners forwarding to a container port of its tasks. */
  readonly listeners: readonly {
    readonly protocol: 'udp' | 'tcp';
    readonly port: number;
    readonly targetPort: number;
    readonly publicIps: readonly string[];
    /** The target group's health check of a task (TCP connect to a port), when it has one. */
    readonly healthCheck: { readonly protocol: 'tcp'; readonly port: number } | undefined;
  }[];
}

const ofType = (template: CfnTemplate, type: string) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type) as [string, Resource & { Properties: Record<string, Json> }][];

const refId = (value: Json | undefined): string | undefined => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (typeof value['Ref'] === 'string') return value['Ref'];
  const att = value['Fn::GetAtt'];
  return Array.isArray(att) && typeof att[0] === 'string' ? att[0] : undefined;
};

/** Every ECS service of the template, with its task definition and network. */
export function ecsServices(template: CfnTemplate, bindings: LabBindings): EcsService[] {
  return ofType(template, 'AWS::ECS::Service').map(([id, service]) => {
    const props = service.Properties;
    const taskId = refId(props['TaskDefinition']);
    const taskResource = taskId === undefined ? undefined : template.Resources[taskId];
    if (taskId === undefined || taskResource?.Type !== 'AWS::ECS::TaskDefinition') throw new Error(`service ${id} has no task definition in the template`);
    const network = (props['NetworkConfiguration'] as { AwsvpcConfiguration?: { AssignPublicIp?: string; SecurityGroups?: Json[] } } | undefined)?.AwsvpcConfiguration;
    const registry = ((props['ServiceRegistries'] ?? []) as { RegistryArn?: Json }[])[0];
    const registryId = refId(registry?.RegistryArn);
    return {
      logicalId: id,
      task: taskDefinition(taskId, taskResource, bindings),
      desiredCount: typeof props['DesiredCount'] === 'number' ? props['DesiredCount'] : undefined,
      securityGroups: (network?.SecurityGroups ?? []).map((g) => refId(g) ?? resolveValue(g, bindings, `${id} security group`)),
      assignPublicIp: network?.AssignPublicIp === 'ENABLED',
      cloudMapName: registryId === undefined ? undefined : cloudMapName(template, registryId),
      listeners: serviceListeners(template, props, bindings),
    };
  });
}

function taskDefinition(logicalId: string, resource: Resource, bindings: LabBindings): TaskDefinition {
  const props = resource.Properties ?? {};
  const containers = (props['ContainerDefinitions'] ?? []) as Record<string, Json>[];
  if (containers.length !== 1) throw new Error(`task definition ${logicalId} has ${containers.length} containers; the lab runs tasks of one`);
  const container = containers[0]!;
  const name = String(container['Name']);
  const where = (what: string) => `${logicalId} (${name}) ${what}`;
  const pairs = (list: Json | undefined, key: 'Value' | 'ValueFrom') =>
    Object.fromEntries(((list ?? []) as Record<string, Json>[]).map((e) => [String(e['Name']), resolveValue(e[key], bindings, where(String(e['Name'])))]));
  const health = container['HealthCheck'] as Record<string, Json> | undefined;
  const linux = container['LinuxParameters'] as { Capabilities?: { Add?: string[] } } | undefined;
  return {
    logicalId,
    containerName: name,
    cpu: Number(resolveValue(props['Cpu'], bindings, where('Cpu'))),
    memoryMiB: Number(resolveValue(props['Memory'], bindings, where('Memory'))),
    environment: pairs(container['Environment'], 'Value'),
    secrets: pairs(container['Secrets'], 'ValueFrom'),
    // ECS's default when the container sets none: 30 s
    stopTimeoutS: typeof container['StopTimeout'] === 'number' ? container['StopTimeout'] : 30,
    healthCheck:
      health === undefined
        ? undefined
        : {
            command: (health['Command'] ?? []) as string[],
            intervalS: Number(health['Interval'] ?? 30),
            timeoutS: Number(health['Timeout'] ?? 5),
            retries: Number(health['Retries'] ?? 3),
            startPeriodS: Number(health['StartPeriod'] ?? 0),
          },
    systemControls: ((container['SystemControls'] ?? []) as { Namespace: string; Value: string }[]).map((c) => ({ namespace: c.Namespace, value: c.Value })),
    addedCapabilities: linux?.Capabilities?.Add ?? [],
    taskRole: refId(props['TaskRoleArn']),
    executionRole: refId(props['ExecutionRoleArn']),
  };
}

function cloudMapName(template: CfnTemplate, registryId: string): string {
  const registry = template.Resources[registryId]?.Properties ?? {};
  const namespaceId = refId(registry['NamespaceId']);
  const namespace = namespaceId === undefined ? undefined : template.Resources[namespaceId]?.Properties?.['Name'];
  if (typeof registry['Name'] !== 'string' || typeof namespace !== 'string') throw new Error(`Cloud Map service ${registryId} has no name in a namespace`);
  return `${registry['Name']}.${namespace}`;
}

function serviceListeners(template: CfnTemplate, service: Record<string, Json>, bindings: LabBindings): EcsService['listeners'] {
  const result: EcsService['listeners'][number][] = [];
  for (const entry of (service['LoadBalancers'] ?? []) as Record<string, Json>[]) {
    const group = refId(entry['TargetGroupArn']);
    for (const [, listener] of ofType(template, 'AWS::ElasticLoadBalancingV2::Listener')) {
      const actions = (listener.Properties['DefaultActions'] ?? []) as Record<string, Json>[];
      if (!actions.some((a) => refId(a['TargetGroupArn']) === group)) continue;
      const balancer = template.Resources[refId(listener.Properties['LoadBalancerArn']) ?? '']?.Properties ?? {};
      const publicIps = ((balancer['SubnetMappings'] ?? []) as Record<string, Json>[]).map((m) => {
        const eip = refId(m['AllocationId']);
        return resolveValue({ 'Fn::GetAtt': [eip ?? '', 'PublicIp'] }, bindings, 'load balancer address');
      });
      const target = template.Resources[group ?? '']?.Properties ?? {};
      const checkProtocol = target['HealthCheckProtocol'];
      if (checkProtocol !== undefined && checkProtocol !== 'TCP') throw new Error(`target group ${group}: the lab checks targets over TCP only, not ${String(checkProtocol)}`);
      result.push({
        protocol: String(listener.Properties['Protocol']).toLowerCase() === 'udp' ? 'udp' : 'tcp',
        port: Number(listener.Properties['Port']),
        targetPort: Number(entry['ContainerPort']),
        publicIps,
        healthCheck: checkProtocol === undefined ? undefined : { protocol: 'tcp', port: Number(target['HealthCheckPort'] ?? entry['ContainerPort']) },
      });
    }
  }
  return result;
}

/** Every security group's ingress rules, by the group's logical id (inline rules and separate ingress resources). */
export function securityGroupRules(template: CfnTemplate, bindings: LabBindings): Map<string, IngressRule[]> {
  const groups = new Map<string, IngressRule[]>();
  const rule = (id: string, r: Record<string, Json>): IngressRule => {
    const protocol = String(r['IpProtocol']);
    const source = r['SourceSecurityGroupId'] !== undefined ? refId(r['SourceSecurityGroupId']) : undefined;
    return {
      protocol: protocol === '-1' ? 'all' : protocol === 'tcp' || protocol === 'udp' ? protocol : (() => { throw new Error(`${id}: protocol ${protocol} is not emulated`); })(),
      fromPort: Number(r['FromPort'] ?? 0),
      toPort: Number(r['ToPort'] ?? 65535),
      source: source !== undefined ? { kind: 'group', group: source } : { kind: 'cidr', cidr: resolveValue(r['CidrIp'], bindings, `${id} CidrIp`) },
      description: String(r['Description'] ?? ''),
    };
  };
  for (const [id, group] of ofType(template, 'AWS::EC2::SecurityGroup')) {
    groups.set(id, ((group.Properties['SecurityGroupIngress'] ?? []) as Record<string, Json>[]).map((r) => rule(id, r)));
  }
  for (const [id, ingress] of ofType(template, 'AWS::EC2::SecurityGroupIngress')) {
    const group = refId(ingress.Properties['GroupId']);
    if (group === undefined || !groups.has(group)) throw new Error(`${id} is an ingress rule of no security group in the template`);
    groups.get(group)!.push(rule(id, ingress.Properties));
  }
  return groups;
}

/** One Allow statement of a role's policies: actions and resources, resolved. */
export interface PolicyStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** The Allow statements of every policy attached to a role (by the role's logical id). */
export function rolePolicy(template: CfnTemplate, roleId: string, bindings: LabBindings): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  for (const [id, policy] of ofType(template, 'AWS::IAM::Policy')) {
    const roles = (policy.Properties['Roles'] ?? []) as Json[];
    if (!roles.some((r) => refId(r) === roleId)) continue;
    const document = policy.Properties['PolicyDocument'] as { Statement?: Record<string, Json>[] };
    for (const statement of document.Statement ?? []) {
      if (statement['Effect'] !== 'Allow') throw new Error(`${id}: only Allow statements are evaluated, found ${String(statement['Effect'])}`);
      const list = (value: Json | undefined) => (Array.isArray(value) ? value : [value ?? '']);
      statements.push({
        actions: list(statement['Action']).map((a) => resolveValue(a, bindings, `${id} action`)),
        resources: list(statement['Resource']).map((r) => resolveValue(r, bindings, `${id} resource`)),
      });
    }
  }
  return statements;
}
