import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { ROUTES_TABLE } from '../../contracts/dial-in.js';
import { REGISTRAR_PRIVATE_PORT, REGISTRAR_PUBLIC_PORT, type PortRange } from '../bridge-props.js';
import type { ResolvedDialIn } from '../resolved-bridge-props.js';
import { DIAL_IN_REJECTED_EVENT, registrarConfig } from '../registrar/registrar-config.js';
import { SERVICE_DEPLOYMENT } from './service-defaults.js';

/** The registrar image's build context. */
export const REGISTRAR_IMAGE_DIR = fileURLToPath(new URL('../registrar', import.meta.url));
/** Cloud Map name of the registrar: the Janus nodes reach it as `registrar.<namespace>`. */
export const REGISTRAR_SERVICE_NAME = 'registrar';
/** The user of the inbound address every idle worker registers as. */
export const INBOUND_USER = 'inbound';
/** The metric counting inbound calls the registrar rejected (no idle worker). */
export const DIAL_IN_REJECTED_METRIC = 'DialInRejected';

export interface DialInProps {
  readonly cluster: ecs.ICluster;
  readonly vpc: ec2.IVpc;
  readonly namespace: servicediscovery.IPrivateDnsNamespace;
  readonly config: ResolvedDialIn;
  readonly janusSecurityGroup: ec2.SecurityGroup;
  readonly janusSipPorts: PortRange;
  readonly metricsNamespace: string;
  readonly logRetention: logs.RetentionDays;
  readonly tableRemovalPolicy: RemovalPolicy;
}

/**
 * Dial-in on AWS: the routes table, the inbound address's password (a generated secret), and the Kamailio registrar
 * as one Fargate task in private subnets, reached by trunks through an internet-facing network load balancer with one
 * Elastic IP per zone (static addresses to give a carrier), and by the Janus nodes on its private port through Cloud
 * Map. UDP keeps the trunk's source address through the load balancer, so the registrar's security group admits SIP
 * only from the trunk CIDRs. Each rejected inbound call (no idle worker) is a log line the `DialInRejected` metric
 * counts, and an alarm watches it.
 */
export class DialIn extends Construct {
  readonly routesTable: dynamodb.Table;
  readonly secret: secretsmanager.Secret;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The static public addresses trunks send inbound calls to. */
  readonly addresses: readonly string[];
  readonly rejectionsAlarm: cloudwatch.Alarm;
  readonly logGroup: logs.LogGroup;
  /** What the workers register with (ROOMLINE_DIAL_IN_REGISTRAR) and as (ROOMLINE_DIAL_IN_AOR). */
  readonly registrarUri: string;
  readonly aor: string;

  constructor(scope: Construct, id: string, props: DialInProps) {
    super(scope, id);
    const { config } = props;

    this.routesTable = new dynamodb.Table(this, 'Routes', {
      partitionKey: { name: ROUTES_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.tableRemovalPolicy,
    });
    this.secret = new secretsmanager.Secret(this, 'InboundPassword', {
      description: 'Roomline dial-in: the password of the inbound address the workers register as',
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });

    const domain = `dial-in.${props.namespace.namespaceName}`;
    this.aor = `sip:${INBOUND_USER}@${domain}`;
    this.registrarUri = `sip:${REGISTRAR_SERVICE_NAME}.${props.namespace.namespaceName}:${REGISTRAR_PRIVATE_PORT}`;

    const publicSubnets = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PUBLIC }).subnets;
    const eips = publicSubnets.map((_subnet, i) => new ec2.CfnEIP(this, `Address${i + 1}`, { domain: 'vpc' }));
    this.addresses = eips.map((eip) => eip.attrPublicIp);
    const advertised = eips[0]?.attrPublicIp ?? '';

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: config.registrarCpu,
      memoryLimitMiB: config.registrarMemoryMiB,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    });
    const kamailio = registrarConfig({
      listen: [
        `udp:0.0.0.0:${REGISTRAR_PUBLIC_PORT} advertise __ADVERTISE__:${REGISTRAR_PUBLIC_PORT}`,
        // the load balancer's health check
        `tcp:0.0.0.0:${REGISTRAR_PUBLIC_PORT}`,
        `udp:__PRIVATE_IP__:${REGISTRAR_PRIVATE_PORT}`,
      ],
      domain,
      inboundUser: INBOUND_USER,
      password: '__DIAL_IN_PASSWORD__',
      modulesDir: '/usr/lib/x86_64-linux-gnu/kamailio/modules/',
      ctlSocket: 'unix:/var/lib/roomline-registrar/ctl.sock',
      relaySocket: `udp:__PRIVATE_IP__:${REGISTRAR_PRIVATE_PORT}`,
    });
    taskDefinition.addContainer('registrar', {
      image: config.registrarImage ?? ecs.ContainerImage.fromAsset(REGISTRAR_IMAGE_DIR),
      essential: true,
      environment: {
        REGISTRAR_CONFIG_B64: Buffer.from(kamailio).toString('base64'),
        REGISTRAR_ADVERTISE: advertised,
      },
      secrets: { DIAL_IN_PASSWORD: ecs.Secret.fromSecretsManager(this.secret) },
      portMappings: [
        { containerPort: REGISTRAR_PUBLIC_PORT, protocol: ecs.Protocol.UDP, name: 'sip-public' },
        { containerPort: REGISTRAR_PUBLIC_PORT, protocol: ecs.Protocol.TCP, name: 'sip-health' },
        { containerPort: REGISTRAR_PRIVATE_PORT, protocol: ecs.Protocol.UDP, name: 'sip-private' },
      ],
      stopTimeout: Duration.seconds(10),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'registrar', mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Roomline dial-in registrar: SIP from the trunk CIDRs, REGISTER from the Janus nodes',
      allowAllOutbound: true,
    });
    for (const cidr of config.trunkCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udp(REGISTRAR_PUBLIC_PORT), 'SIP from a trunk (through the load balancer)');
    }
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(REGISTRAR_PUBLIC_PORT), 'load balancer health check');
    this.securityGroup.addIngressRule(props.janusSecurityGroup, ec2.Port.udp(REGISTRAR_PRIVATE_PORT), 'REGISTER and in-dialog SIP from the Janus nodes');
    props.janusSecurityGroup.addIngressRule(
      this.securityGroup,
      new ec2.Port({
        protocol: ec2.Protocol.UDP,
        fromPort: props.janusSipPorts.from,
        toPort: props.janusSipPorts.to,
        stringRepresentation: `udp:${props.janusSipPorts.from}-${props.janusSipPorts.to}`,
      }),
      'inbound INVITEs from the dial-in registrar',
    );

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      // one task: the contacts live in its memory; a new task has them again within one registration interval (60 s)
      desiredCount: 1,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      securityGroups: [this.securityGroup],
      ...SERVICE_DEPLOYMENT,
      cloudMapOptions: { name: REGISTRAR_SERVICE_NAME, cloudMapNamespace: props.namespace, dnsTtl: Duration.seconds(10) },
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      subnetMappings: publicSubnets.map((subnet, i) => ({ subnet, allocationId: eips[i]!.attrAllocationId })),
      crossZoneEnabled: true,
    });
    const listener = this.loadBalancer.addListener('Sip', { port: REGISTRAR_PUBLIC_PORT, protocol: elbv2.Protocol.UDP });
    listener.addTargets('Registrar', {
      port: REGISTRAR_PUBLIC_PORT,
      protocol: elbv2.Protocol.UDP,
      targets: [this.service.loadBalancerTarget({ containerName: 'registrar', containerPort: REGISTRAR_PUBLIC_PORT, protocol: ecs.Protocol.UDP })],
      healthCheck: { protocol: elbv2.Protocol.TCP, port: String(REGISTRAR_PUBLIC_PORT), interval: Duration.seconds(10) },
      preserveClientIp: true,
    });

    const rejections = new logs.MetricFilter(this, 'Rejections', {
      logGroup: this.logGroup,
      filterPattern: logs.FilterPattern.literal(`"${DIAL_IN_REJECTED_EVENT}"`),
      metricNamespace: props.metricsNamespace,
      metricName: DIAL_IN_REJECTED_METRIC,
      metricValue: '1',
      defaultValue: 0,
    });
    this.rejectionsAlarm = new cloudwatch.Alarm(this, 'RejectionsAlarm', {
      alarmDescription: 'Inbound calls answered 480: no idle worker was registered at the dial-in registrar',
      metric: rejections.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: config.rejectionAlarmThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
