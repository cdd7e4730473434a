import { chown, copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { egressPolicy } from '../../contracts/egress-policy.js';
import { RoomlineClient } from '../../worker/client.js';
import { LAB_REGION } from '../emulators.js';
import { Lab, type LabOptions } from '../lab.js';
import { LAB_PEER_IP } from '../netns.js';
import { SipPhone, type PhoneUser } from '../sip-phone.js';
import { waitUntil } from '../wait.js';
import { EcsEndpoints } from './ecs-endpoints.js';
import { EcsServiceStandIn, type ServiceTask } from './ecs-service.js';
import type { LabMount } from './fargate-task.js';
import type { RecordedAwsCall } from './iam.js';
import { bindTemplate, LAB_ACCOUNT, type BoundTemplate } from './lab-bindings.js';
import { ecsServices, rolePolicy, securityGroupRules, type CfnTemplate } from './task-definitions.js';
import { CheckIp, HostServices, VpcDns } from './vpc-services.js';
import { LabVpc, VPC_NETWORK } from './vpc.js';

/** Where the AWS call recorder sits in a worker container, and where it writes. */
const RECORDER_IN_CONTAINER = '/opt/roomline-lab/aws-call-recorder.mjs';
const CALLS_IN_CONTAINER = '/opt/roomline-lab/calls';
const RECORDER = fileURLToPath(new URL('./aws-call-recorder.mjs', import.meta.url));

export interface ContainerLabOptions {
  /** The synthesized template whose ECS services the lab runs. */
  readonly template: CfnTemplate;
  /** The image each service's container runs, by container name (worker, janus, registrar). */
  readonly images: Readonly<Record<string, string>>;
  /** Options of the lab underneath (the phone listens on LAB_PEER_IP, so the VPC can reach it). */
  readonly lab?: Omit<LabOptions, 'workers' | 'dialIn' | 'janusSipNodes'>;
}

/**
 * Roomline's three images run as ECS runs them on Fargate, from the services of a synthesized template, around the
 * lab: the lab's namespace is the internet (the room's Janus, the phone, the people), the emulators and the lab's
 * Secrets Manager stand-in sit behind the endpoint variables, and the tasks live in a VPC of their own (lab/containers/
 * vpc.ts) with Cloud Map names on its resolver, the ECS endpoints at 169.254.170.2, and a checkip on the internet.
 */
export class ContainerLab {
  private stopped: Promise<void> | undefined;
  private readonly cleanups: (() => Promise<void>)[] = [];
  readonly services = new Map<string, EcsServiceStandIn>();
  vpc!: LabVpc;
  ecs!: EcsEndpoints;
  bound!: BoundTemplate;
  /** A client of the lab's queue and tables with the workers' own allow-lists. */
  client!: RoomlineClient;

  private constructor(
    readonly lab: Lab,
    private readonly options: ContainerLabOptions,
  ) {}

  static async start(options: ContainerLabOptions): Promise<ContainerLab> {
    const lab = await Lab.start({ ...options.lab, workers: 0, phone: { ...options.lab?.phone, address: LAB_PEER_IP } });
    const containers = new ContainerLab(lab, options);
    try {
      await containers.startParts();
      return containers;
    } catch (error) {
      await containers.stop();
      throw error;
    }
  }

  get dir(): string {
    return this.lab.dir;
  }

  private async startParts(): Promise<void> {
    const { lab } = this;
    const dir = join(lab.dir, 'containers');
    await mkdir(join(dir, 'calls'), { recursive: true });
    await chown(join(dir, 'calls'), 1000, 1000);
    this.vpc = await LabVpc.create(lab.netns, dir);
    this.cleanups.push(() => this.vpc.remove());
    const dns = await VpcDns.start(this.vpc.router, dir);
    this.cleanups.push(() => dns.stop());
    const checkIp = await CheckIp.start(lab.netns, dir);
    this.cleanups.push(() => checkIp.stop());
    const emulators = lab.emulators;
    const hostPort = (url: string) => Number(new URL(url).port);
    const endpoints = {
      sqs: emulators.sqsEndpoint,
      dynamodb: emulators.dynamodbEndpoint,
      secrets: emulators.secrets.endpoint,
      ...(lab.endpoints.chime === undefined ? {} : { chime: lab.endpoints.chime.apiEndpoint }),
    };
    const hostServices = await HostServices.start(
      this.vpc.router,
      dir,
      Object.entries(endpoints).map(([name, url]) => ({ name, hostPort: hostPort(url), ip: VPC_NETWORK.servicesIp, port: hostPort(url) })),
    );
    this.cleanups.push(() => hostServices.stop());
    const inVpc = (url: string) => `http://${VPC_NETWORK.servicesIp}:${hostPort(url)}`;
    this.ecs = await EcsEndpoints.start(this.vpc.router, dir, LAB_REGION);
    this.cleanups.push(() => this.ecs.stop());

    const nameOf = (url: string) => url.split('/').at(-1) ?? '';
    this.bound = bindTemplate(this.options.template, {
      region: LAB_REGION,
      queueUrl: emulators.queueUrl,
      queueName: nameOf(emulators.queueUrl),
      deadLetterQueueUrl: emulators.deadLetterQueueUrl,
      deadLetterQueueName: nameOf(emulators.deadLetterQueueUrl),
      tableName: emulators.tableName,
      routesTableName: emulators.routesTableName,
    });
    for (const { arn, value } of this.bound.secrets.values()) emulators.secrets.put(arn, value);
    const { bindings } = this.bound;
    for (const [group, rules] of securityGroupRules(this.options.template, bindings)) await this.vpc.defineSecurityGroup(group, rules);

    const workerEnvironment = (task: string): Record<string, string> => ({
      // the lab's stand-ins behind the SDK's endpoint variables (on AWS: the public service endpoints)
      AWS_ENDPOINT_URL_SQS: inVpc(endpoints.sqs),
      AWS_ENDPOINT_URL_DYNAMODB: inVpc(endpoints.dynamodb),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: inVpc(endpoints.secrets),
      AWS_ENDPOINT_URL_CHIME_SDK_MEETINGS: endpoints.chime === undefined ? `http://${VPC_NETWORK.servicesIp}:9` : inVpc(endpoints.chime),
      // the lab's instrument: one JSON line per AWS API call
      NODE_OPTIONS: `--import=${RECORDER_IN_CONTAINER}`,
      ROOMLINE_LAB_AWS_CALLS: `${CALLS_IN_CONTAINER}/${task}.jsonl`,
    });
    const workerMounts = (): LabMount[] => [
      { host: RECORDER, container: RECORDER_IN_CONTAINER },
      { host: join(dir, 'calls'), container: CALLS_IN_CONTAINER, writable: true },
    ];
    const additions = {
      // checkip.amazonaws.com's stand-in: the Janus entrypoint asks it for the task's public address
      janus: { environment: () => ({ JANUS_PUBLIC_IP_URL: checkIp.url }), mounts: () => [] },
      worker: { environment: workerEnvironment, mounts: workerMounts },
      registrar: { environment: () => ({}), mounts: () => [] },
    } as const;
    const context = {
      vpc: this.vpc,
      dns,
      ecs: this.ecs,
      secretsEndpoint: emulators.secrets.endpoint,
      region: LAB_REGION,
      dir,
      policyOf: (role: string) => rolePolicy(this.options.template, role, bindings),
      roleArn: (role: string) => bindings.attribute(role, 'Arn') ?? `arn:aws:iam::${LAB_ACCOUNT}:role/${role}`,
    };
    for (const service of ecsServices(this.options.template, bindings)) {
      const name = service.task.containerName;
      const image = this.options.images[name];
      const extra = (additions as Record<string, (typeof additions)[keyof typeof additions] | undefined>)[name];
      if (image === undefined || extra === undefined) throw new Error(`the lab has no image for the ${name} container of ${service.logicalId}`);
      const standIn = new EcsServiceStandIn(service, image, context, extra);
      this.services.set(name, standIn);
      this.cleanups.push(() => standIn.stop());
    }
    const worker = this.service('worker').service.task.environment;
    this.client = new RoomlineClient({
      queueUrl: emulators.queueUrl,
      tableName: emulators.tableName,
      routesTableName: emulators.routesTableName,
      sqs: emulators.sqsClient(),
      dynamodb: emulators.dynamodbClient(),
      egress: egressPolicy(worker['ROOMLINE_ROOM_HOSTS'], worker['ROOMLINE_SIP_HOSTS']),
    });
    // the lab's own helpers (dialAndMeasure...) dial through the lab's client: it refuses what these workers refuse
    lab.client = this.client;
  }

  service(container: string): EcsServiceStandIn {
    const service = this.services.get(container);
    if (service === undefined) throw new Error(`the template has no service running a ${container} container`);
    return service;
  }

  /** The phone's address for `user`, as the VPC reaches it. */
  phoneUri(user: PhoneUser): string {
    return SipPhone.uri(user, LAB_PEER_IP);
  }

  /** The number `number` at the dial-in load balancer's first static address, as a trunk would send it. */
  dialInUri(number: string): string {
    const listener = this.service('registrar').service.listeners[0];
    if (listener === undefined) throw new Error('the registrar service has no load balancer listener');
    return `sip:${number}@${listener.publicIps[0]}:${listener.port}`;
  }

  /** Waits until a worker task is warm (its "worker warm" log line) and has not claimed a call, and returns it. */
  async warmWorker(options: { readonly except?: readonly string[]; readonly timeoutMs?: number } = {}): Promise<ServiceTask> {
    const workers = this.service('worker');
    let warm: ServiceTask | undefined;
    await waitUntil(
      async () => {
        for (const task of workers.live()) {
          if (options.except?.includes(task.name) === true) continue;
          // a task that claimed a call is no longer warm, though it runs until it has torn down (job per call)
          const log = await task.task.log();
          if (log.includes('"worker warm: waiting for a call"') && !/"msg":"(?:inbound )?call claimed/.test(log)) {
            warm = task;
            return true;
          }
        }
        if (workers.lastFailure !== undefined) throw workers.lastFailure;
        return false;
      },
      { timeoutMs: options.timeoutMs ?? 180_000, what: 'a warm worker container', intervalMs: 500 },
    );
    return warm!;
  }

  /** Every AWS API call the worker containers made so far (the recorder's lines), oldest first. */
  async awsCalls(): Promise<RecordedAwsCall[]> {
    const dir = join(this.dir, 'containers', 'calls');
    const calls: RecordedAwsCall[] = [];
    for (const name of await readdir(dir)) {
      for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as RecordedAwsCall & { instrument?: string };
        if (entry.instrument === undefined) calls.push(entry);
      }
    }
    return calls.sort((a, b) => a.at - b.at);
  }

  /** A dial request calling the phone (as the VPC reaches it) into the lab's room. */
  dialRequest(overrides: Parameters<Lab['dialRequest']>[0] = {}): ReturnType<Lab['dialRequest']> {
    return this.lab.dialRequest({ to: this.phoneUri('probe'), ...overrides });
  }

  /** Copies a task's container log into the lab's folder, named by the task (kept with ROOMLINE_LAB_KEEP=1). */
  async keepLog(task: ServiceTask): Promise<void> {
    await copyFile(task.task.logFile, join(this.dir, `${task.name}.log`)).catch(() => undefined);
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const cleanup of this.cleanups.reverse()) await cleanup().catch(() => undefined);
      await this.lab.stop();
    })();
    return this.stopped;
  }
}
