import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { NamespaceListeners } from '../ns-forward.js';
import type { Namespace } from './namespace.js';
import { VPC_NETWORK } from './vpc.js';

/**
 * The lab's stand-in for what Fargate serves every task at 169.254.170.2: the task role's credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), the task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4) and the
 * ECS agent's task scale-in protection (ECS_AGENT_URI). Credentials are made up (the emulators check none); the
 * protection requests of every task are kept, in order, for the tests to read.
 */

/** One protection request a task made. */
export interface ProtectionChange {
  readonly task: string;
  readonly at: number;
  readonly protectionEnabled: boolean;
  readonly expiresInMinutes: number | undefined;
}

/** The variables ECS itself sets in a Fargate task's containers (not in the task definition). */
export interface EcsTaskEnvironment {
  readonly AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: string;
  readonly ECS_CONTAINER_METADATA_URI: string;
  readonly ECS_CONTAINER_METADATA_URI_V4: string;
  readonly ECS_AGENT_URI: string;
  readonly AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE';
  readonly AWS_DEFAULT_REGION: string;
  readonly AWS_REGION: string;
}

interface RegisteredTask {
  readonly name: string;
  readonly taskId: string;
  readonly taskArn: string;
  readonly roleArn: string | undefined;
  readonly family: string;
  protection: { enabled: boolean; expiresAt: number | undefined };
}

export class EcsEndpoints {
  readonly protectionChanges: ProtectionChange[] = [];
  private readonly byTaskId = new Map<string, RegisteredTask>();
  private readonly byCredentials = new Map<string, RegisteredTask>();

  private constructor(
    private readonly server: Server,
    private readonly relay: NamespaceListeners,
    private readonly region: string,
  ) {}

  static async start(router: Namespace, dir: string, region: string): Promise<EcsEndpoints> {
    let self: EcsEndpoints | undefined;
    const server = createServer((req, res) => self?.handle(req, res));
    const socket = join(dir, 'ecs-endpoints.sock');
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
    const relay = await NamespaceListeners.start(router, dir, 'ecs-endpoints', [
      { name: 'ecs', socket, host: VPC_NETWORK.ecsEndpointIp, port: 80 },
    ]);
    self = new EcsEndpoints(server, relay, region);
    return self;
  }

  /** Registers a task that is about to start; returns the variables ECS gives its container. */
  register(task: { readonly name: string; readonly family: string; readonly roleArn: string | undefined }): EcsTaskEnvironment {
    const taskId = randomBytes(16).toString('hex');
    const credentials = randomBytes(16).toString('hex');
    const registered: RegisteredTask = {
      ...task,
      taskId,
      taskArn: `arn:aws:ecs:${this.region}:000000000000:task/roomline-lab/${taskId}`,
      protection: { enabled: false, expiresAt: undefined },
    };
    this.byTaskId.set(taskId, registered);
    this.byCredentials.set(credentials, registered);
    const base = `http://${VPC_NETWORK.ecsEndpointIp}`;
    const suffix = `${taskId}-${randomBytes(4).readUInt32BE(0)}`;
    return {
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: `/v2/credentials/${credentials}`,
      ECS_CONTAINER_METADATA_URI: `${base}/v3/${suffix}`,
      ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/${suffix}`,
      ECS_AGENT_URI: `${base}/api/${suffix}`,
      AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
      AWS_DEFAULT_REGION: this.region,
      AWS_REGION: this.region,
    };
  }

  /** The ECS task id (as the worker takes it from the metadata URI) of a registered task. */
  taskIdOf(name: string): string | undefined {
    return [...this.byTaskId.values()].find((t) => t.name === name)?.taskId;
  }

  /** Protection requests of one task, in order. */
  protectionOf(name: string): ProtectionChange[] {
    return this.protectionChanges.filter((c) => c.task === name);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const path = new URL(req.url ?? '/', 'http://ecs').pathname;
      const credentials = /^\/v2\/credentials\/([0-9a-f]{32})$/.exec(path);
      if (credentials !== null && req.method === 'GET') {
        const task = this.byCredentials.get(credentials[1]!);
        if (task === undefined || task.roleArn === undefined) return send(404, { message: 'no task role' });
        return send(200, {
          RoleArn: task.roleArn,
          AccessKeyId: `ASIALAB${task.taskId.slice(0, 13).toUpperCase()}`,
          SecretAccessKey: randomBytes(20).toString('base64'),
          Token: randomBytes(32).toString('base64'),
          Expiration: new Date(Date.now() + 6 * 3_600_000).toISOString(),
        });
      }
      const scoped = /^\/(v3|v4|api)\/([0-9a-f]{32})-\d+(\/.*)?$/.exec(path);
      const task = scoped === null ? undefined : this.byTaskId.get(scoped[2]!);
      if (scoped === null || task === undefined) return send(404, { message: `the lab serves no ${path}` });
      const rest = scoped[3] ?? '';
      if (scoped[1] === 'api' && rest === '/task-protection/v1/state') return this.protection(task, req.method ?? 'GET', Buffer.concat(chunks), send);
      if (rest === '/task') return send(200, { Cluster: 'roomline-lab', TaskARN: task.taskArn, Family: task.family, LaunchType: 'FARGATE', DesiredStatus: 'RUNNING', KnownStatus: 'RUNNING' });
      if (rest === '') return send(200, { Name: task.family, DockerName: task.name, Labels: { 'com.amazonaws.ecs.task-arn': task.taskArn } });
      return send(404, { message: `the lab serves no ${path}` });
    });
  }

  private protection(task: RegisteredTask, method: string, body: Buffer, send: (status: number, body: unknown) => void): void {
    if (method === 'PUT') {
      let request: { ProtectionEnabled?: unknown; ExpiresInMinutes?: unknown };
      try {
        request = JSON.parse(body.toString('utf8')) as typeof request;
      } catch {
        return send(400, { error: { Arn: task.taskArn, Code: 'InvalidParameterException', Message: 'body is not JSON' } });
      }
      if (typeof request.ProtectionEnabled !== 'boolean') {
        return send(400, { error: { Arn: task.taskArn, Code: 'InvalidParameterException', Message: 'ProtectionEnabled is required' } });
      }
      const minutes = typeof request.ExpiresInMinutes === 'number' ? request.ExpiresInMinutes : request.ProtectionEnabled ? 120 : undefined;
      task.protection = { enabled: request.ProtectionEnabled, expiresAt: minutes === undefined ? undefined : Date.now() + minutes * 60_000 };
      this.protectionChanges.push({ task: task.name, at: Date.now(), protectionEnabled: request.ProtectionEnabled, expiresInMinutes: minutes });
    } else if (method !== 'GET') {
      return send(405, { error: { Arn: task.taskArn, Code: 'InvalidParameterException', Message: `${method} is not served` } });
    }
    return send(200, {
      protection: {
        ProtectionEnabled: task.protection.enabled,
        ...(task.protection.expiresAt === undefined ? {} : { ExpirationDate: new Date(task.protection.expiresAt).toISOString() }),
        TaskArn: task.taskArn,
      },
    });
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
