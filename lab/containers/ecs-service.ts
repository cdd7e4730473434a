import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LAB_CREDENTIALS } from '../emulators.js';
import type { EcsEndpoints } from './ecs-endpoints.js';
import { FargateTask, type LabMount, type TaskExit } from './fargate-task.js';
import { allows } from './iam.js';
import type { EcsService, PolicyStatement } from './task-definitions.js';
import type { VpcDns } from './vpc-services.js';
import type { LabVpc, TaskLink } from './vpc.js';

/**
 * The lab's stand-in for one ECS service: it starts tasks of the service's task definition (each in a network
 * namespace of its own, with its security groups and public IP), reads their secrets as ECS does before a task
 * starts (GetSecretValue as the execution role, which must allow it), registers a task in Cloud Map once its health
 * check passes, points the service's load balancer listeners at it, and starts a replacement when a task exits while
 * the service should run it (a worker exits after its one call: the service's next task takes the next call).
 */

/** What the lab adds to every container of a service: stand-ins for what only AWS has, and instruments. */
export interface LabAdditions {
  readonly environment: (task: string) => Readonly<Record<string, string>>;
  readonly mounts: (task: string) => readonly LabMount[];
}

export interface ServiceContext {
  readonly vpc: LabVpc;
  readonly dns: VpcDns;
  readonly ecs: EcsEndpoints;
  readonly secretsEndpoint: string;
  readonly region: string;
  readonly dir: string;
  /** The Allow statements of a role, by its logical id. */
  readonly policyOf: (role: string) => readonly PolicyStatement[];
  /** The role's ARN, as ECS hands it to the task. */
  readonly roleArn: (role: string) => string;
}

/** One task of the service, from start to exit. */
export interface ServiceTask {
  readonly name: string;
  readonly link: TaskLink;
  readonly task: FargateTask;
  readonly startedAt: number;
  /** When the health check passed (the task counts as running then), in ms after start. */
  healthyAfterMs?: number;
  exit?: TaskExit;
}

export class EcsServiceStandIn {
  readonly tasks: ServiceTask[] = [];
  private desired = 0;
  private counter = 0;
  private stopping = false;
  private starting = 0;
  private readonly failures: Error[] = [];

  constructor(
    readonly service: EcsService,
    private readonly image: string,
    private readonly context: ServiceContext,
    private readonly additions: LabAdditions,
  ) {}

  get containerName(): string {
    return this.service.task.containerName;
  }

  /** Tasks that have not exited. */
  live(): ServiceTask[] {
    return this.tasks.filter((t) => t.exit === undefined);
  }

  /** Sets the desired count and starts tasks until it is met; resolves once every new task is healthy. */
  async scaleTo(count: number): Promise<ServiceTask[]> {
    this.desired = count;
    const started: Promise<ServiceTask>[] = [];
    while (this.live().length + this.starting < this.desired) {
      this.starting += 1;
      started.push(this.startTask().finally(() => (this.starting -= 1)));
    }
    return Promise.all(started);
  }

  /** A failure of a replacement started in the background, if one failed. */
  get lastFailure(): Error | undefined {
    return this.failures.at(-1);
  }

  private async startTask(): Promise<ServiceTask> {
    const index = ++this.counter;
    const name = `${this.containerName}-${index}`;
    const definition = this.service.task;
    const link = await this.context.vpc.addTask(name, { groups: this.service.securityGroups, publicIp: this.service.assignPublicIp });
    try {
      const secrets = await this.readSecrets(definition.executionRole);
      const ecsEnvironment = this.context.ecs.register({
        name,
        family: definition.logicalId,
        roleArn: definition.taskRole === undefined ? undefined : this.context.roleArn(definition.taskRole),
      });
      const task = await FargateTask.start({
        name,
        image: this.image,
        definition,
        link,
        environment: { ...ecsEnvironment, ...definition.environment, ...secrets, ...this.additions.environment(name) },
        dir: this.context.dir,
        mounts: this.additions.mounts(name),
      });
      const entry: ServiceTask = { name, link, task, startedAt: task.startedAt };
      this.tasks.push(entry);
      void task.exited().then((exit) => this.onExit(entry, exit));
      entry.healthyAfterMs = await task.waitHealthy();
      await this.register();
      for (const listener of this.service.listeners) {
        if (listener.healthCheck !== undefined) await this.targetHealthy(link, listener.healthCheck.port);
        for (const publicIp of listener.publicIps) {
          await this.context.vpc.addListener({ publicIp, protocol: listener.protocol, port: listener.port, task: name, targetPort: listener.targetPort });
        }
      }
      return entry;
    } catch (error) {
      await this.context.vpc.removeTask(name);
      throw error;
    }
  }

  /**
   * The load balancer's health check of a new target: a TCP connection to its port from inside the VPC (the check's
   * source is the load balancer's address there). An unhealthy target gets no traffic, and ECS replaces the task.
   */
  private async targetHealthy(link: TaskLink, port: number, timeoutMs = 30_000): Promise<void> {
    const probe = `require('node:net').connect(${port}, '${link.ip}').on('connect', () => process.exit(0)).on('error', () => process.exit(1)); setTimeout(() => process.exit(1), 2000);`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const passed = await this.context.vpc.router.exec(process.execPath, '-e', probe).then(() => true, () => false);
      if (passed) return;
      if (Date.now() > deadline) {
        const task = this.tasks.find((t) => t.name === link.name);
        throw new Error(`${link.name}: the load balancer's TCP health check of port ${port} fails:\n${(await task?.task.logTail()) ?? ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /** The task definition's secrets, read as ECS reads them: as the execution role, which must be allowed to. */
  private async readSecrets(executionRole: string | undefined): Promise<Record<string, string>> {
    const secrets = Object.entries(this.service.task.secrets);
    if (secrets.length === 0) return {};
    const policy = executionRole === undefined ? [] : this.context.policyOf(executionRole);
    const client = new SecretsManagerClient({ endpoint: this.context.secretsEndpoint, region: this.context.region, credentials: LAB_CREDENTIALS });
    try {
      const values: Record<string, string> = {};
      for (const [variable, arn] of secrets) {
        if (!allows(policy, 'secretsmanager:GetSecretValue', arn)) {
          throw new Error(`ResourceInitializationError: the execution role of ${this.service.task.logicalId} may not read ${arn} (${variable})`);
        }
        const output = await client.send(new GetSecretValueCommand({ SecretId: arn }));
        if (output.SecretString === undefined) throw new Error(`the secret ${arn} (${variable}) has no string value`);
        values[variable] = output.SecretString;
      }
      return values;
    } finally {
      client.destroy();
    }
  }

  /** Cloud Map: the service's name resolves to its healthy, running tasks. */
  private async register(): Promise<void> {
    if (this.service.cloudMapName === undefined) return;
    const healthy = this.live().filter((t) => t.healthyAfterMs !== undefined).map((t) => t.link.ip);
    await this.context.dns.set(this.service.cloudMapName, healthy);
  }

  private async onExit(entry: ServiceTask, exit: TaskExit): Promise<void> {
    entry.exit = exit;
    await this.register().catch(() => undefined);
    await entry.task.remove().catch(() => undefined);
    await this.context.vpc.removeTask(entry.name).catch(() => undefined);
    if (this.stopping) return;
    if (this.live().length + this.starting < this.desired) {
      await this.scaleTo(this.desired).catch((error: unknown) => this.failures.push(error as Error));
    }
  }

  /** Stops the service: no more replacements, every task stopped as ECS stops it. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.desired = 0;
    await Promise.all(this.live().map((t) => t.task.stop().catch(() => undefined)));
    await Promise.all(this.tasks.map((t) => t.task.exited()));
  }
}
