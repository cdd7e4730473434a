import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DEFAULT_METRICS_NAMESPACE } from '../worker/aws/metric-names.js';
import { isFargateTaskSize } from './fargate.js';
import { WORKER_MEDIA, WORKER_SIZES } from './worker-sizes.js';
import { DEFAULT_TRUNK_SECRET_PREFIX } from '../worker/aws/trunk-credentials.js';
import { DEFAULT_HOST_ALLOW_LIST, HostAllowList } from '../contracts/egress-policy.js';
import { leaseTimingProblems } from '../worker/lease-timing.js';
import {
  JANUS_WEBRTC_PORTS,
  JANUS_WEBSOCKET_PORT,
  LOG_LEVELS,
  WARM_POOL_DEFAULTS,
  WORKER_AWS_REQUEST_TIMEOUT_MS,
  type IceServer,
  type LogLevel,
  type PortRange,
  type RoomlineBridgeProps,
} from './bridge-props.js';

export interface ResolvedDialIn {
  readonly trunkCidrs: readonly string[];
  readonly registrarCpu: number;
  readonly registrarMemoryMiB: number;
  readonly registrarImage: ecs.ContainerImage | undefined;
  readonly rejectionAlarmThreshold: number;
}

/** Props with every default applied: built once, read by every sub-construct. */
export interface ResolvedBridgeProps {
  readonly deploymentName: string;
  readonly maxReceiveCount: number;
  readonly visibilityTimeout: Duration;
  readonly callLease: Duration;
  readonly sweepInterval: Duration;
  readonly dialRetention: Duration;
  readonly recordTtlDays: number;
  readonly tableRemovalPolicy: RemovalPolicy;
  readonly minIdleWorkers: number;
  readonly maxWorkers: number;
  readonly workerCpu: number;
  readonly workerMemoryMiB: number;
  readonly workerStopTimeout: Duration;
  readonly sipFrom: string;
  readonly iceServers: readonly IceServer[];
  readonly iceServersSecret: secretsmanager.ISecret | undefined;
  readonly logLevel: LogLevel;
  readonly logRetention: RetentionDays;
  readonly trunkSecretPrefix: string;
  readonly metricsNamespace: string;
  /** ROOMLINE_ROOM_HOSTS and ROOMLINE_SIP_HOSTS of the workers. */
  readonly roomHosts: string;
  readonly sipHosts: string;
  readonly chromiumSandbox: boolean;
  readonly janusApiSecret: secretsmanager.ISecret | undefined;
  readonly janus: ResolvedJanus;
  readonly alarmEmails: readonly string[];
  readonly queueAgeAlarmThreshold: Duration;
  readonly failureRateAlarmPercent: number;
  readonly dialIn: ResolvedDialIn | undefined;
}

export type ResolvedJanus =
  | { readonly kind: 'existing'; readonly urls: readonly string[] }
  | {
      readonly kind: 'cluster';
      readonly nodes: number;
      readonly cpu: number;
      readonly memoryMiB: number;
      readonly sipPeerCidrs: readonly string[];
      readonly rtpPeerCidrs: readonly string[];
      readonly sipSignalingPorts: PortRange;
      readonly sipRtpPorts: PortRange;
      readonly namespace: string;
    };

/** Props that only apply to the Janus cluster the construct runs. */
const JANUS_CLUSTER_PROPS = [
  'janusNodes',
  'janusCpu',
  'janusMemoryMiB',
  'janusImage',
  'sipPeerCidrs',
  'rtpPeerCidrs',
  'sipSignalingPorts',
  'sipRtpPorts',
  'serviceDiscoveryNamespace',
] as const satisfies readonly (keyof RoomlineBridgeProps)[];

/** Error thrown at synth for props that are invalid or conflict. */
export class RoomlineBridgePropsError extends Error {
  override readonly name = 'RoomlineBridgePropsError';
}

/**
 * Applies the defaults and checks every prop; throws `RoomlineBridgePropsError` listing all problems at once.
 * `stackName` is the default deployment name.
 */
export function resolveBridgeProps(props: RoomlineBridgeProps, stackName: string): ResolvedBridgeProps {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };

  const deploymentName = props.deploymentName ?? stackName;
  check(Token.isUnresolved(deploymentName) || /^[A-Za-z0-9._-]{1,64}$/.test(deploymentName), `deploymentName must be 1-64 letters, digits, ".", "_" or "-", got "${deploymentName}"`);

  const maxReceiveCount = props.maxReceiveCount ?? 3;
  check(isIntIn(maxReceiveCount, 1, 1000), `maxReceiveCount must be an integer from 1 to 1000, got ${maxReceiveCount}`);
  const visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(30);
  check(isIntIn(visibilityTimeout.toSeconds(), 10, 43_200), `visibilityTimeout must be from 10 seconds to 12 hours, got ${visibilityTimeout.toHumanString()}`);
  const callLease = props.callLease ?? Duration.seconds(20);
  check(isIntIn(callLease.toSeconds(), 1, 3_600), `callLease must be a whole number of seconds from 1 to 3600, got ${callLease.toHumanString()}`);
  const sweepInterval = props.sweepInterval ?? Duration.seconds(10);
  check(isIntIn(sweepInterval.toSeconds(), 1, 3_600), `sweepInterval must be a whole number of seconds from 1 to 3600, got ${sweepInterval.toHumanString()}`);
  problems.push(
    ...leaseTimingProblems(
      { visibilityTimeoutS: visibilityTimeout.toSeconds(), leaseS: callLease.toSeconds(), awsRequestTimeoutMs: WORKER_AWS_REQUEST_TIMEOUT_MS },
      { visibilityTimeoutS: 'visibilityTimeout', leaseS: 'callLease', awsRequestTimeoutMs: "the workers' request timeout" },
    ),
  );
  const dialRetention = props.dialRetention ?? Duration.minutes(15);
  check(isIntIn(dialRetention.toSeconds(), 60, 1_209_600), `dialRetention must be from 1 minute to 14 days, got ${dialRetention.toHumanString()}`);

  const recordTtlDays = props.recordTtlDays ?? 30;
  check(isIntIn(recordTtlDays, 1, 36_500), `recordTtlDays must be a positive integer, got ${recordTtlDays}`);

  const minIdleWorkers = props.minIdleWorkers ?? WARM_POOL_DEFAULTS.minIdleWorkers;
  check(isIntIn(minIdleWorkers, 1, 1000), `minIdleWorkers must be an integer of at least 1 (a pool without an idle worker cannot ring a phone in time), got ${minIdleWorkers}`);
  const maxWorkers = props.maxWorkers ?? WARM_POOL_DEFAULTS.maxWorkers;
  check(isIntIn(maxWorkers, 1, 5000), `maxWorkers must be a positive integer, got ${maxWorkers}`);
  check(!(maxWorkers < minIdleWorkers), `maxWorkers (${maxWorkers}) must be at least minIdleWorkers (${minIdleWorkers})`);
  const workerMedia = props.workerMedia ?? 'video';
  check(WORKER_MEDIA.includes(workerMedia), `workerMedia must be one of ${WORKER_MEDIA.join(', ')}, got "${String(workerMedia)}"`);
  const size = WORKER_MEDIA.includes(workerMedia) ? WORKER_SIZES[workerMedia] : WORKER_SIZES.video;
  const workerCpu = props.workerCpu ?? size.cpuUnits;
  const workerMemoryMiB = props.workerMemoryMiB ?? size.memoryMiB;
  check(isFargateSize(workerCpu, workerMemoryMiB), `workerCpu ${workerCpu} with workerMemoryMiB ${workerMemoryMiB} is not a Fargate task size`);
  const workerStopTimeout = props.workerStopTimeout ?? Duration.seconds(30);
  check(isIntIn(workerStopTimeout.toSeconds(), 10, 120), `workerStopTimeout must be from 10 to 120 seconds (Fargate's limit), got ${workerStopTimeout.toHumanString()}`);
  const sipFrom = props.sipFrom ?? 'sip:roomline@roomline.invalid';
  check(/^sips?:\S+$/.test(sipFrom), `sipFrom must be a sip: or sips: URI, got "${sipFrom}"`);

  check(!(props.iceServers !== undefined && props.iceServersSecret !== undefined), 'iceServers and iceServersSecret conflict: give the STUN/TURN list in one place only');
  const iceServers = props.iceServers ?? [];
  for (const server of iceServers) {
    if ('credential' in server || 'username' in server) {
      problems.push('iceServers must not carry credentials (they would be visible in the task definition); put the list in iceServersSecret');
      break;
    }
  }
  const logLevel = props.logLevel ?? 'info';
  check(LOG_LEVELS.includes(logLevel), `logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const trunkSecretPrefix = props.trunkSecretPrefix ?? DEFAULT_TRUNK_SECRET_PREFIX;
  check(/^[A-Za-z0-9/_+=.@-]{1,256}$/.test(trunkSecretPrefix), `trunkSecretPrefix must contain only characters allowed in secret names, got "${trunkSecretPrefix}"`);
  const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
  check(/^[A-Za-z0-9._/#:-]{1,255}$/.test(metricsNamespace) && !metricsNamespace.startsWith('AWS/'), `metricsNamespace must be a custom CloudWatch namespace, got "${metricsNamespace}"`);

  const hostList = (name: string, entries: readonly string[]) => {
    for (const entry of entries) {
      try {
        HostAllowList.parse(entry);
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
      }
    }
    check(entries.length > 0, `${name} must list at least one host pattern (["*"] allows any public host)`);
    return entries.join(',');
  };
  const roomHosts = hostList('roomHosts', props.roomHosts ?? [DEFAULT_HOST_ALLOW_LIST]);
  const sipHosts = hostList('sipHosts', props.sipHosts ?? [DEFAULT_HOST_ALLOW_LIST]);

  const janus = resolveJanus(props, problems);

  const alarmEmails = props.alarmEmails ?? [];
  for (const email of alarmEmails) check(/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email), `alarmEmails: "${email}" is not an email address`);
  const queueAgeAlarmThreshold = props.queueAgeAlarmThreshold ?? Duration.seconds(30);
  check(isIntIn(queueAgeAlarmThreshold.toSeconds(), 1, 86_400), `queueAgeAlarmThreshold must be from 1 second to 1 day, got ${queueAgeAlarmThreshold.toHumanString()}`);
  const failureRateAlarmPercent = props.failureRateAlarmPercent ?? 10;
  check(failureRateAlarmPercent > 0 && failureRateAlarmPercent <= 100, `failureRateAlarmPercent must be above 0 and at most 100, got ${failureRateAlarmPercent}`);

  const dialIn = resolveDialIn(props, janus, problems);

  if (problems.length > 0) {
    throw new RoomlineBridgePropsError(`invalid RoomlineBridge props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return {
    deploymentName,
    maxReceiveCount,
    visibilityTimeout,
    callLease,
    sweepInterval,
    dialRetention,
    recordTtlDays,
    tableRemovalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    minIdleWorkers,
    maxWorkers,
    workerCpu,
    workerMemoryMiB,
    workerStopTimeout,
    sipFrom,
    iceServers,
    iceServersSecret: props.iceServersSecret,
    logLevel,
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
    trunkSecretPrefix,
    metricsNamespace,
    roomHosts,
    sipHosts,
    chromiumSandbox: props.chromiumSandbox ?? false,
    janusApiSecret: props.janusApiSecret,
    janus,
    alarmEmails,
    queueAgeAlarmThreshold,
    failureRateAlarmPercent,
    dialIn,
  };
}

function resolveDialIn(props: RoomlineBridgeProps, janus: ResolvedJanus, problems: string[]): ResolvedDialIn | undefined {
  const dialIn = props.dialIn;
  if (dialIn === undefined) return undefined;
  if (janus.kind !== 'cluster') problems.push('dialIn needs the Janus cluster the construct runs (its nodes register at the registrar): drop janusUrls');
  if (dialIn.trunkCidrs.length === 0) problems.push('dialIn.trunkCidrs must list the trunks that send inbound calls');
  for (const cidr of dialIn.trunkCidrs) if (!isIpv4Cidr(cidr)) problems.push(`dialIn.trunkCidrs: "${cidr}" is not an IPv4 CIDR such as 203.0.113.0/24`);
  const registrarCpu = dialIn.registrarCpu ?? 256;
  const registrarMemoryMiB = dialIn.registrarMemoryMiB ?? 512;
  if (!isFargateSize(registrarCpu, registrarMemoryMiB)) {
    problems.push(`dialIn.registrarCpu ${registrarCpu} with registrarMemoryMiB ${registrarMemoryMiB} is not a Fargate task size`);
  }
  const rejectionAlarmThreshold = dialIn.rejectionAlarmThreshold ?? 1;
  if (!isIntIn(rejectionAlarmThreshold, 1, 100_000)) problems.push(`dialIn.rejectionAlarmThreshold must be a positive integer, got ${rejectionAlarmThreshold}`);
  return { trunkCidrs: dialIn.trunkCidrs, registrarCpu, registrarMemoryMiB, registrarImage: dialIn.registrarImage, rejectionAlarmThreshold };
}

function resolveJanus(props: RoomlineBridgeProps, problems: string[]): ResolvedJanus {
  if (props.janusUrls !== undefined) {
    const conflicting = JANUS_CLUSTER_PROPS.filter((name) => props[name] !== undefined);
    if (conflicting.length > 0) {
      problems.push(`janusUrls (existing Janus servers) conflicts with ${conflicting.join(', ')}, which only apply to the Janus cluster the construct runs: give one or the other`);
    }
    if (props.janusUrls.length === 0) problems.push('janusUrls must list at least one URL (omit it to run a Janus cluster)');
    for (const url of props.janusUrls) {
      if (!/^wss?:\/\/[^\s@/]+(\/\S*)?$/.test(url)) problems.push(`janusUrls: "${url}" must be a ws:// or wss:// URL without credentials`);
    }
    return { kind: 'existing', urls: props.janusUrls };
  }
  const nodes = props.janusNodes ?? 2;
  if (!isIntIn(nodes, 1, 100)) problems.push(`janusNodes must be an integer from 1 to 100, got ${nodes}`);
  const cpu = props.janusCpu ?? 512;
  const memoryMiB = props.janusMemoryMiB ?? 1024;
  if (!isFargateSize(cpu, memoryMiB)) problems.push(`janusCpu ${cpu} with janusMemoryMiB ${memoryMiB} is not a Fargate task size`);
  const sipPeerCidrs = props.sipPeerCidrs ?? [];
  const rtpPeerCidrs = props.rtpPeerCidrs ?? sipPeerCidrs;
  for (const [name, cidrs] of [['sipPeerCidrs', sipPeerCidrs], ['rtpPeerCidrs', rtpPeerCidrs]] as const) {
    for (const cidr of cidrs) if (!isIpv4Cidr(cidr)) problems.push(`${name}: "${cidr}" is not an IPv4 CIDR such as 203.0.113.0/24`);
  }
  const sipSignalingPorts = props.sipSignalingPorts ?? { from: 40000, to: 40999 };
  const sipRtpPorts = props.sipRtpPorts ?? { from: 20000, to: 20999 };
  for (const [name, range] of [['sipSignalingPorts', sipSignalingPorts], ['sipRtpPorts', sipRtpPorts]] as const) {
    if (!isPortRange(range)) problems.push(`${name} must be a range of ports from 1024 to 65535 with from <= to, got ${range.from}-${range.to}`);
  }
  const ranges = [
    ['sipSignalingPorts', sipSignalingPorts],
    ['sipRtpPorts', sipRtpPorts],
    ['the WebRTC ports', JANUS_WEBRTC_PORTS],
    ['the WebSocket port', { from: JANUS_WEBSOCKET_PORT, to: JANUS_WEBSOCKET_PORT }],
  ] as const;
  for (let i = 0; i < ranges.length; i += 1) {
    for (let j = i + 1; j < ranges.length; j += 1) {
      const [nameA, a] = ranges[i]!;
      const [nameB, b] = ranges[j]!;
      if (a.from <= b.to && b.from <= a.to) problems.push(`${nameA} (${a.from}-${a.to}) overlap ${nameB} (${b.from}-${b.to})`);
    }
  }
  const namespace = props.serviceDiscoveryNamespace ?? 'roomline.internal';
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(namespace)) {
    problems.push(`serviceDiscoveryNamespace must be a lower-case DNS name such as roomline.internal, got "${namespace}"`);
  }
  return { kind: 'cluster', nodes, cpu, memoryMiB, sipPeerCidrs, rtpPeerCidrs, sipSignalingPorts, sipRtpPorts, namespace };
}

function isIntIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function isFargateSize(cpu: number, memoryMiB: number): boolean {
  return isFargateTaskSize({ vcpu: cpu / 1024, memoryGb: memoryMiB / 1024 });
}

function isPortRange(range: PortRange): boolean {
  return isIntIn(range.from, 1024, 65535) && isIntIn(range.to, 1024, 65535) && range.from <= range.to;
}

function isIpv4Cidr(cidr: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (match === null) return false;
  const [, a, b, c, d, bits] = match;
  return [a, b, c, d].every((octet) => Number(octet) <= 255) && Number(bits) <= 32;
}
