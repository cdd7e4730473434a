import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { JANUS_WEBRTC_PORTS, JANUS_WEBSOCKET_PORT, type PortRange } from '../bridge-props.js';
import type { ResolvedJanus } from '../resolved-bridge-props.js';
import { SERVICE_DEPLOYMENT } from './service-defaults.js';

/** Port of Janus's HTTP API inside the task, bound to 127.0.0.1: used only by the container health check. */
export const JANUS_HEALTH_PORT = 8088;
/** Cloud Map service name of the Janus nodes: workers reach them as `janus.<namespace>`. */
export const JANUS_SERVICE_NAME = 'janus';
/** The port of a Janus node's SIP edge for SIP peers, on the task's address (infra/janus-image/entrypoint.sh). */
export const JANUS_SIP_EDGE_PORT = 5060;
/** The port of the SIP edge for the node's own Janus, on the task's loopback. */
export const JANUS_SIP_EDGE_LOCAL_PORT = 5062;
/** The outbound proxy the workers give every dialled call (ROOMLINE_SIP_OUTBOUND_PROXY): the edge, as Janus reaches it. */
export const JANUS_SIP_OUTBOUND_PROXY = `sip:127.0.0.1:${JANUS_SIP_EDGE_LOCAL_PORT}`;

export interface JanusClusterProps {
  readonly cluster: ecs.ICluster;
  readonly vpc: ec2.IVpc;
  readonly image: ecs.ContainerImage;
  readonly config: Extract<ResolvedJanus, { kind: 'cluster' }>;
  readonly logRetention: logs.RetentionDays;
  /** The API secret every Janus request must carry (JANUS_API_SECRET of the image). */
  readonly apiSecret: secretsmanager.ISecret;
}

/**
 * Janus nodes (SIP plugin only) on Fargate in public subnets, each with its own public IPv4 address that its SIP plugin
 * announces in SDP (`sdp_ip`, found by the image's entrypoint at start). Workers find the nodes through Cloud Map
 * (A records of healthy tasks under `janus.<namespace>`).
 *
 * A task's interface carries only its private address (the public one is the internet gateway's 1:1 translation), so
 * the SIP plugin's Contact and Via name an address no SIP peer can reach: a peer's BYE or re-INVITE would be lost.
 * Dialled calls therefore go through the node's SIP edge (a Kamailio beside Janus in the same container), which
 * record-routes with the public address: the peer's in-dialog requests reach the edge, and the edge the SIP plugin.
 * WebRTC needs no such mapping (no `nat_1_1_mapping`): the workers are in the VPC and reach the private address.
 *
 * Who may reach what: the WebSocket API and the WebRTC media ports only from the workers' security group; SIP
 * signalling (the edge over UDP, the SIP plugin's own ports over TCP) only from `sipPeerCidrs`; SIP media only from
 * `rtpPeerCidrs`. Replies to the nodes' own outgoing SIP and RTP are let in by the security group's connection
 * tracking.
 */
export class JanusCluster extends Construct {
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly namespace: servicediscovery.PrivateDnsNamespace;
  readonly logGroup: logs.LogGroup;
  /** The URL the workers use (ROOMLINE_JANUS_URLS). */
  readonly url: string;
  /** The outbound proxy the workers give every dialled call (ROOMLINE_SIP_OUTBOUND_PROXY): the nodes' SIP edge. */
  readonly sipOutboundProxy = JANUS_SIP_OUTBOUND_PROXY;

  constructor(scope: Construct, id: string, props: JanusClusterProps) {
    super(scope, id);
    const { config } = props;

    this.namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: config.namespace,
      vpc: props.vpc,
      description: 'Roomline: Janus nodes for the workers',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: config.cpu,
      memoryLimitMiB: config.memoryMiB,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    });
    taskDefinition.addContainer('janus', {
      image: props.image,
      essential: true,
      environment: {
        JANUS_WS_PORT: String(JANUS_WEBSOCKET_PORT),
        JANUS_HEALTH_PORT: String(JANUS_HEALTH_PORT),
        JANUS_WEBRTC_PORTS: rangeText(JANUS_WEBRTC_PORTS),
        JANUS_SIP_RTP_PORTS: rangeText(config.sipRtpPorts),
        JANUS_SIP_EDGE_PORT: String(JANUS_SIP_EDGE_PORT),
        JANUS_SIP_EDGE_LOCAL_PORT: String(JANUS_SIP_EDGE_LOCAL_PORT),
      },
      secrets: { JANUS_API_SECRET: ecs.Secret.fromSecretsManager(props.apiSecret) },
      // Each SIP plugin session binds its own SIP port from the kernel's local port range: keep it to the open range.
      systemControls: [{ namespace: 'net.ipv4.ip_local_port_range', value: `${config.sipSignalingPorts.from} ${config.sipSignalingPorts.to}` }],
      portMappings: [{ containerPort: JANUS_WEBSOCKET_PORT, protocol: ecs.Protocol.TCP, name: 'websocket' }],
      healthCheck: {
        command: ['CMD-SHELL', `curl -fsS -o /dev/null http://127.0.0.1:${JANUS_HEALTH_PORT}/janus/info || exit 1`],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      stopTimeout: Duration.seconds(30),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'janus', mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Roomline Janus nodes: WebSocket and WebRTC from workers, SIP and RTP from trunk CIDRs',
      allowAllOutbound: true,
    });
    for (const cidr of config.sipPeerCidrs) {
      const peer = ec2.Peer.ipv4(cidr);
      this.securityGroup.addIngressRule(peer, ec2.Port.udp(JANUS_SIP_EDGE_PORT), 'SIP (UDP) from a trunk, to the SIP edge');
      this.securityGroup.addIngressRule(peer, portRange(ec2.Protocol.TCP, config.sipSignalingPorts), 'SIP (TCP) from a trunk');
    }
    for (const cidr of config.rtpPeerCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), portRange(ec2.Protocol.UDP, config.sipRtpPorts), 'RTP/RTCP from a trunk media server');
    }

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: config.nodes,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      assignPublicIp: true,
      securityGroups: [this.securityGroup],
      ...SERVICE_DEPLOYMENT,
      cloudMapOptions: {
        name: JANUS_SERVICE_NAME,
        cloudMapNamespace: this.namespace,
        dnsRecordType: servicediscovery.DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
    });
    this.url = `ws://${JANUS_SERVICE_NAME}.${config.namespace}:${JANUS_WEBSOCKET_PORT}`;
  }

  /** Lets the workers reach the WebSocket API and the WebRTC media ports, and the nodes' media reach the workers. */
  allowWorkers(workers: ec2.SecurityGroup): void {
    this.securityGroup.addIngressRule(workers, ec2.Port.tcp(JANUS_WEBSOCKET_PORT), 'Janus WebSocket API from workers');
    this.securityGroup.addIngressRule(workers, portRange(ec2.Protocol.UDP, JANUS_WEBRTC_PORTS), 'WebRTC media from workers');
    workers.addIngressRule(this.securityGroup, ec2.Port.allUdp(), 'WebRTC media (ICE) from Janus nodes');
  }
}

function rangeText(range: PortRange): string {
  return `${range.from}-${range.to}`;
}

function portRange(protocol: ec2.Protocol, range: PortRange): ec2.Port {
  return new ec2.Port({
    protocol,
    fromPort: range.from,
    toPort: range.to,
    stringRepresentation: `${protocol}:${rangeText(range)}`,
  });
}
