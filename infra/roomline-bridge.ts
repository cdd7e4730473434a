import { Annotations, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import type { RoomlineBridgeProps } from './bridge-props.js';
import { resolveBridgeProps, type ResolvedBridgeProps } from './resolved-bridge-props.js';
import { CallEvents } from './constructs/call-events.js';
import { CallsTable } from './constructs/calls-table.js';
import { DialQueue } from './constructs/dial-queue.js';
import { JanusCluster } from './constructs/janus-cluster.js';
import { Observability } from './constructs/observability.js';
import { WorkerService } from './constructs/worker-service.js';
import { DialIn } from './constructs/dial-in.js';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';

export * from './bridge-props.js';
export * from './resolved-bridge-props.js';

/** The repository root: the worker image's build context (its Dockerfile and .dockerignore live there). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Janus image's build context. */
export const JANUS_IMAGE_DIR = fileURLToPath(new URL('./janus-image', import.meta.url));

/**
 * Folders and files never sent to the worker image build (on top of .dockerignore): keeps `cdk synth` fast and the
 * asset hash stable. node_modules is installed inside the image, cdk.out would recurse.
 */
export const WORKER_IMAGE_EXCLUDES = [
  'node_modules',
  'cdk.out',
  '.git',
  '.lab',
  'dist',
  'test',
  'infra',
  'docs',
  'bench',
  'lab',
  'planner',
  '*.log',
] as const;

/**
 * Roomline on AWS: the dial queue, the calls table, a warm pool of Fargate workers (each takes one call, then exits),
 * Janus nodes for the SIP leg (or existing ones), call events on EventBridge, and a dashboard with alarms.
 *
 * ```ts
 * const bridge = new RoomlineBridge(stack, 'Roomline', { sipPeerCidrs: ['203.0.113.0/24'], alarmEmails: ['ops@example.com'] });
 * bridge.queue.grantSendMessages(myService.taskRole);
 * ```
 */
export class RoomlineBridge extends Construct {
  /** The props with their defaults applied. */
  readonly config: ResolvedBridgeProps;
  readonly vpc: ec2.IVpc;
  /** The dial queue: services send dial requests here. */
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** The calls table: call state, history and quality, one record per callId. */
  readonly table: dynamodb.Table;
  readonly cluster: ecs.Cluster;
  readonly workerService: ecs.FargateService;
  readonly workerSecurityGroup: ec2.SecurityGroup;
  /** The Janus service, when the construct runs the Janus cluster. */
  readonly janusService: ecs.FargateService | undefined;
  /** The Janus WebSocket URLs the workers use. */
  readonly janusUrls: readonly string[];
  /**
   * How the workers' link to Janus is carried: `wss` (TLS) when every Janus URL is wss://, else `ws`. The Janus cluster
   * the construct runs is reached over ws:// inside the VPC, where only the workers' security group may reach its API
   * port, and every request must carry the Janus API secret; give `janusUrls` with wss:// for TLS on that link.
   */
  readonly janusTransport: 'ws' | 'wss';
  /** The secret every Janus request of the workers carries, when there is one. */
  readonly janusApiSecret: secretsmanager.ISecret | undefined;
  /** The bus receiving `Roomline Call State Changed` events. */
  readonly eventBus: events.IEventBus;
  readonly alarmTopic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  /** Dial-in (with the `dialIn` prop): the registrar, its load balancer's static addresses, the routes table. */
  readonly dialIn: DialIn | undefined;

  constructor(scope: Construct, id: string, props: RoomlineBridgeProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const config = resolveBridgeProps(props, stack.stackName);
    this.config = config;

    this.vpc = props.vpc ?? this.#createVpc();

    const dialQueue = new DialQueue(this, 'Dial', {
      maxReceiveCount: config.maxReceiveCount,
      visibilityTimeout: config.visibilityTimeout,
      retention: config.dialRetention,
    });
    this.queue = dialQueue.queue;
    this.deadLetterQueue = dialQueue.deadLetterQueue;
    this.table = new CallsTable(this, 'Calls', { removalPolicy: config.tableRemovalPolicy }).table;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    let janus: JanusCluster | undefined;
    switch (config.janus.kind) {
      case 'existing':
        this.janusUrls = config.janus.urls;
        this.janusApiSecret = config.janusApiSecret;
        if (this.janusApiSecret === undefined) {
          Annotations.of(this).addWarningV2(
            'roomline:noJanusApiSecret',
            'janusUrls without janusApiSecret: the workers send no Janus API secret, so anything that reaches those Janus servers may drive them. Give their api_secret as janusApiSecret.',
          );
        }
        break;
      case 'cluster':
        this.janusApiSecret =
          config.janusApiSecret ??
          new secretsmanager.Secret(this, 'JanusApiSecret', {
            description: 'Roomline: the Janus API secret the workers send and the Janus nodes require',
            generateSecretString: { passwordLength: 40, excludePunctuation: true },
          });
        janus = new JanusCluster(this, 'Janus', {
          cluster: this.cluster,
          vpc: this.vpc,
          image: props.janusImage ?? ecs.ContainerImage.fromAsset(JANUS_IMAGE_DIR),
          config: config.janus,
          logRetention: config.logRetention,
          apiSecret: this.janusApiSecret,
        });
        this.janusUrls = [janus.url];
        if (config.janus.sipPeerCidrs.length === 0) {
          Annotations.of(this).addWarningV2(
            'roomline:noSipPeerCidrs',
            'sipPeerCidrs is empty: Janus accepts only replies to its own SIP requests, so a peer\'s BYE after minutes of SIP silence may not arrive. List your trunks\' CIDRs.',
          );
        }
        break;
      default: {
        const unexpected: never = config.janus;
        throw new Error(`unknown Janus configuration ${JSON.stringify(unexpected)}`);
      }
    }
    this.janusService = janus?.service;
    this.janusTransport = this.janusUrls.every((url) => url.startsWith('wss://')) ? 'wss' : 'ws';

    let dialIn: DialIn | undefined;
    if (config.dialIn !== undefined && janus !== undefined && config.janus.kind === 'cluster') {
      dialIn = new DialIn(this, 'DialIn', {
        cluster: this.cluster,
        vpc: this.vpc,
        namespace: janus.namespace,
        config: config.dialIn,
        janusSecurityGroup: janus.securityGroup,
        janusSipPorts: config.janus.sipSignalingPorts,
        metricsNamespace: config.metricsNamespace,
        logRetention: config.logRetention,
        tableRemovalPolicy: config.tableRemovalPolicy,
      });
    }
    this.dialIn = dialIn;

    const workers = new WorkerService(this, 'Workers', {
      cluster: this.cluster,
      vpc: this.vpc,
      image:
        props.workerImage ??
        ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, { file: 'Dockerfile', exclude: [...WORKER_IMAGE_EXCLUDES] }),
      queue: this.queue,
      table: this.table,
      janusUrls: this.janusUrls,
      janusApiSecret: this.janusApiSecret,
      sipOutboundProxy: janus?.sipOutboundProxy,
      config,
      ...(dialIn === undefined
        ? {}
        : { dialIn: { registrarUri: dialIn.registrarUri, aor: dialIn.aor, secret: dialIn.secret, routesTable: dialIn.routesTable } }),
    });
    this.workerService = workers.service;
    this.workerSecurityGroup = workers.securityGroup;
    janus?.allowWorkers(workers.securityGroup);
    if (janus !== undefined) workers.service.node.addDependency(janus.service);

    this.eventBus = new CallEvents(this, 'Events', {
      table: this.table,
      eventBus: props.eventBus,
      logRetention: config.logRetention,
    }).eventBus;

    const observability = new Observability(this, 'Observability', {
      config,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      workerService: this.workerService,
      janusService: this.janusService,
      alarmTopic: props.alarmTopic,
    });
    this.alarmTopic = observability.alarmTopic;
    this.dashboard = observability.dashboard;
    dialIn?.rejectionsAlarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));

    this.#acknowledgeNagFindings(workers, janus);
    if (dialIn !== undefined) this.#acknowledgeDialInFindings(dialIn);
  }

  #acknowledgeDialInFindings(dialIn: DialIn): void {
    const task = dialIn.service.taskDefinition;
    Validations.of(task).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The registrar configuration is non-secret (its Kamailio script, the public address); the password comes from Secrets Manager.',
    });
    Validations.of(task.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken supports no resource narrower than "*".',
    });
    Validations.of(dialIn.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The inbound password is only shared between the registrar and the workers, both read it at start; rotating means redeploying both, done with the stack.',
    });
    Validations.of(dialIn.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'SIP is admitted only from the trunk CIDRs; the one other source is the VPC\'s own CIDR (the load balancer\'s TCP health check), a token cdk-nag cannot resolve.',
    });
    Validations.of(dialIn.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'A UDP SIP listener has no access log (NLB access logs cover TLS listeners only); the registrar logs every rejection and the VPC flow log records rejected traffic.',
    });
  }

  /** Two AZs, public subnets (Janus, NAT) and private subnets with egress (workers), flow log of rejected traffic. */
  #createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    vpc.addFlowLog('RejectedTraffic', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'VpcFlowLogs', { retention: logs.RetentionDays.ONE_MONTH })),
    });
    return vpc;
  }

  /**
   * cdk-nag AwsSolutions findings that are right for this design, each acknowledged on the construct it concerns,
   * with the reason.
   */
  #acknowledgeNagFindings(workers: WorkerService, janus: JanusCluster | undefined): void {
    Validations.of(workers.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The worker configuration is non-secret (queue URL, table name, limits); secrets (trunk credentials, TURN, the Janus API secret) come from Secrets Manager.',
    });
    if (this.janusApiSecret instanceof secretsmanager.Secret) {
      Validations.of(this.janusApiSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'The Janus API secret is read by the workers and the Janus nodes at start: rotate it by updating the secret and restarting both services; a rotation Lambda would change it under running nodes.',
      });
    }
    const trunkArn = `Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${this.config.trunkSecretPrefix}*`;
    Validations.of(workers.taskDefinition.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[${trunkArn}]`,
      reason: 'Trunks are added after deployment as secrets under the trunk prefix; the worker reads only that prefix.',
    });
    Validations.of(workers.taskDefinition.taskRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:chime:*:<AWS::AccountId>:meeting/*]',
      reason: 'Chime meetings are created by the caller at call time, in any control region; the worker may only get them and add or delete attendees.',
    });
    Validations.of(workers.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken supports no resource narrower than "*".',
    });
    if (janus !== undefined) {
      const task = janus.service.taskDefinition;
      Validations.of(task).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'Janus configuration is non-secret (port ranges); its API secret comes from Secrets Manager.',
      });
      Validations.of(task.obtainExecutionRole()).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecr:GetAuthorizationToken supports no resource narrower than "*".',
      });
    }
  }
}
