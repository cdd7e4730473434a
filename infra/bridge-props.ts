import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { WORKER_SIZES, type WorkerMedia } from './worker-sizes.js';

/**
 * What a user of the `RoomlineBridge` construct may set, each prop with its default, and the fixed ports and timeouts
 * of a deployment. `resolved-bridge-props.ts` applies the defaults and checks the props.
 */

/** The workers' longest wait for one DynamoDB or SQS request (ROOMLINE_AWS_REQUEST_TIMEOUT_MS), in ms. */
export const WORKER_AWS_REQUEST_TIMEOUT_MS = 3_000;

/** The warm pool's defaults (`minIdleWorkers`, `maxWorkers`, the worker's size for the default `workerMedia`, video), read by the planner too. */
export const WARM_POOL_DEFAULTS = {
  minIdleWorkers: 2,
  maxWorkers: 20,
  workerCpu: WORKER_SIZES.video.cpuUnits,
  workerMemoryMiB: WORKER_SIZES.video.memoryMiB,
} as const;

/** An inclusive range of ports. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** A STUN or TURN server for the worker's WebRTC legs, without credentials (use `iceServersSecret` for TURN). */
export interface IceServer {
  readonly urls: string | readonly string[];
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Properties of a Roomline bridge. Every one is optional; the defaults make a working two-AZ deployment. */
export interface RoomlineBridgeProps {
  /**
   * VPC for the workers (private subnets with egress) and the Janus nodes (public subnets).
   * @default a new VPC: 2 AZs, a public and a private-with-egress subnet in each, 1 NAT gateway, flow log of rejected traffic
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Name of this deployment: the `Deployment` dimension of its metrics and part of the dashboard's name.
   * @default the stack name
   */
  readonly deploymentName?: string;

  /** Receives of a dial message before it is parked in the dead-letter queue (also the worker's ROOMLINE_MAX_RECEIVES). @default 3 */
  readonly maxReceiveCount?: number;
  /**
   * Visibility timeout of a received dial message; the worker renews it while the call lasts. Must be longer than
   * `callLease`. @default Duration.seconds(30)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Lease on a claimed call (ROOMLINE_LEASE_S), renewed by its worker every third of its length: a call whose worker
   * is gone is closed as FAILED WORKER_LOST within `callLease + sweepInterval`. Shorter than `visibilityTimeout`, and
   * at least three worker request timeouts (3 s each). @default Duration.seconds(20)
   */
  readonly callLease?: Duration;
  /**
   * How often each worker sweeps the calls table for calls whose lease ran out (ROOMLINE_SWEEP_INTERVAL_S). Every
   * worker sweeps, idle or busy, so sweeping goes on while the service runs any task. @default Duration.seconds(10)
   */
  readonly sweepInterval?: Duration;
  /** How long an unclaimed dial request waits in the queue before SQS drops it. @default Duration.minutes(15) */
  readonly dialRetention?: Duration;

  /** Days a finished call's record is kept (DynamoDB TTL). @default 30 */
  readonly recordTtlDays?: number;
  /** What happens to the calls table when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;

  /** Workers kept idle and ready to ring at once (the warm pool). @default 2 */
  readonly minIdleWorkers?: number;
  /** Most worker tasks at once (idle and busy together). @default 20 */
  readonly maxWorkers?: number;
  /**
   * What the deployment's calls carry, which sizes its worker tasks (one call each): `audio` 0.5 vCPU with 1 GB,
   * `video` 1 vCPU with 2 GB, the smallest Fargate sizes holding one measured call with 1.5× headroom
   * (`infra/worker-sizes.ts`). An audio-sized worker asked for video carries it with too little CPU for 30 fps.
   * @default "video"
   */
  readonly workerMedia?: WorkerMedia;
  /** CPU units of a worker task (a valid Fargate size with `workerMemoryMiB`). @default from `workerMedia` (512 or 1024) */
  readonly workerCpu?: number;
  /** Memory of a worker task in MiB. @default from `workerMedia` (1024 or 2048) */
  readonly workerMemoryMiB?: number;
  /** The worker image. @default built from the repository's Dockerfile at deploy time */
  readonly workerImage?: ecs.ContainerImage;
  /** Time between SIGTERM and SIGKILL for a worker (10–120 s; the worker hangs up and exits within 10 s). @default Duration.seconds(30) */
  readonly workerStopTimeout?: Duration;
  /** SIP identity used as From when a request has none (ROOMLINE_SIP_FROM). @default "sip:roomline@roomline.invalid" */
  readonly sipFrom?: string;
  /** STUN servers for both legs (ROOMLINE_ICE_SERVERS). Conflicts with `iceServersSecret`. @default [] */
  readonly iceServers?: readonly IceServer[];
  /** Secret whose value is the ROOMLINE_ICE_SERVERS JSON, for TURN servers with credentials. Conflicts with `iceServers`. @default none */
  readonly iceServersSecret?: secretsmanager.ISecret;
  /** Worker log level (ROOMLINE_LOG_LEVEL). @default "info" */
  readonly logLevel?: LogLevel;
  /** Retention of the worker and Janus logs (which also carry the EMF metrics). @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Prefix of the Secrets Manager secrets holding SIP trunk credentials, one per trunk name. @default "roomline/trunks/" */
  readonly trunkSecretPrefix?: string;
  /** CloudWatch namespace of the worker metrics. @default "Roomline" */
  readonly metricsNamespace?: string;
  /**
   * Room servers a dial request may name (ROOMLINE_ROOM_HOSTS): host patterns, `*` for any public name or address,
   * `name`, `*.name`, an IP address or a CIDR range. Private, loopback, link-local and metadata addresses and internal
   * names are refused unless listed. @default ["*"]
   */
  readonly roomHosts?: readonly string[];
  /** SIP hosts a dial request without a trunk may call (ROOMLINE_SIP_HOSTS), as `roomHosts`. @default ["*"] */
  readonly sipHosts?: readonly string[];
  /**
   * Chromium's own sandbox (ROOMLINE_CHROMIUM_SANDBOX). Fargate offers neither of the two ways it can start: no user
   * namespaces (the kernel allows none) and no CAP_SYS_ADMIN for Debian's setuid helper (Fargate adds only
   * SYS_PTRACE). So it is off there, and the browser runs as its own unprivileged user, with nothing of the worker's
   * environment, reaching the network only through the worker's egress proxy. Set `true` for a platform that allows it.
   * @default false
   */
  readonly chromiumSandbox?: boolean;
  /**
   * The Janus API secret (its SecretString) the workers send and the Janus nodes require. With existing Janus servers
   * (`janusUrls`), theirs.
   * @default a generated secret for the Janus cluster the construct runs; none with `janusUrls`
   */
  readonly janusApiSecret?: secretsmanager.ISecret;

  /**
   * WebSocket URLs of existing Janus servers (ws:// or wss://) the workers use for the SIP leg. When given, the
   * construct runs no Janus cluster, and the Janus cluster props must not be given.
   * @default none: the construct runs a Janus cluster
   */
  readonly janusUrls?: readonly string[];
  /** Janus nodes the construct runs. @default 2 */
  readonly janusNodes?: number;
  /** CPU units of a Janus task. @default 512 */
  readonly janusCpu?: number;
  /** Memory of a Janus task in MiB. @default 1024 */
  readonly janusMemoryMiB?: number;
  /** The Janus image. @default built from infra/janus-image at deploy time */
  readonly janusImage?: ecs.ContainerImage;
  /** IPv4 CIDRs of the SIP trunks/peers allowed to send SIP to the Janus nodes. @default [] (no unsolicited SIP from anywhere) */
  readonly sipPeerCidrs?: readonly string[];
  /** IPv4 CIDRs of the SIP peers' media servers allowed to send RTP to the Janus nodes. @default the same as `sipPeerCidrs` */
  readonly rtpPeerCidrs?: readonly string[];
  /** Ports the Janus SIP plugin's SIP stacks listen on (one per call). @default { from: 40000, to: 40999 } */
  readonly sipSignalingPorts?: PortRange;
  /** RTP/RTCP ports of the SIP plugin's media. @default { from: 20000, to: 20999 } */
  readonly sipRtpPorts?: PortRange;
  /** Private DNS namespace in which the workers find the Janus nodes (as `janus.<namespace>`). @default "roomline.internal" */
  readonly serviceDiscoveryNamespace?: string;

  /**
   * Dial-in: a Kamailio registrar (one Fargate task) behind a network load balancer with static addresses, where
   * idle workers register and trunks send inbound calls; the routes table; an alarm on rejected inbound calls.
   * Needs the Janus cluster the construct runs (not `janusUrls`). @default off
   */
  readonly dialIn?: DialInProps;

  /** Event bus receiving a `Roomline Call State Changed` event for every state change. @default a new event bus */
  readonly eventBus?: events.IEventBus;
  /** SNS topic for the alarms. @default a new topic, encrypted with a new KMS key */
  readonly alarmTopic?: sns.ITopic;
  /** Email addresses subscribed to the alarm topic. @default none */
  readonly alarmEmails?: readonly string[];
  /** Age of the oldest waiting dial request that raises the queue-age alarm. @default Duration.seconds(30) */
  readonly queueAgeAlarmThreshold?: Duration;
  /** Percent of calls failing through the bridge's own fault (within 5 minutes, at least 5 calls) that raises the failure-rate alarm. @default 10 */
  readonly failureRateAlarmPercent?: number;
}

/** Dial-in settings. */
export interface DialInProps {
  /** IPv4 CIDRs of the trunks that send inbound calls: the only sources the registrar's public SIP port admits. */
  readonly trunkCidrs: readonly string[];
  /** The registrar task's CPU units. @default 256 */
  readonly registrarCpu?: number;
  /** The registrar task's memory. @default 512 */
  readonly registrarMemoryMiB?: number;
  /** The registrar image. @default built from infra/registrar (Debian's Kamailio) */
  readonly registrarImage?: ecs.ContainerImage;
  /** Inbound calls rejected for want of an idle worker, within 5 minutes, that raise the alarm. @default 1 */
  readonly rejectionAlarmThreshold?: number;
}

/** The registrar's public SIP port (trunks, through the load balancer) and its private one (the Janus nodes). */
export const REGISTRAR_PUBLIC_PORT = 5060;
export const REGISTRAR_PRIVATE_PORT = 5070;

/** The WebRTC (worker ↔ Janus) media ports of the Janus nodes; fixed, since only the workers reach them. */
export const JANUS_WEBRTC_PORTS: PortRange = { from: 10000, to: 10999 };
/** The Janus WebSocket API port. */
export const JANUS_WEBSOCKET_PORT = 8188;
