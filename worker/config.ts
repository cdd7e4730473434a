import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_HOST_ALLOW_LIST, HostAllowList, type EgressPolicy } from '../contracts/egress-policy.js';
import { RoomlineError } from '../contracts/errors.js';
import { loadAwsModeConfig, type AwsModeConfig } from './aws/aws-env.js';
import { CHROMIUM_BUILDS, type ChromiumBuild } from './chromium-builds.js';
import { leaseTimingProblems } from './lease-timing.js';
import type { DialInConfig } from './dial-in.js';

/**
 * Configuration from the environment, validated once at start. Every value is documented with its default; a bad
 * value stops the process with a message naming the variable.
 */

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a positive whole number' })
    .int('must be a positive whole number')
    .positive('must be a positive whole number')
    .default(fallback);
const wsUrlList = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()).filter((u) => u.length > 0))
  .pipe(
    z
      .array(z.string().regex(/^wss?:\/\/[^\s@]+$/, 'each entry must be a ws:// or wss:// URL without credentials'))
      .min(1, 'at least one Janus WebSocket URL is needed'),
  );
const iceServers = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of RTCIceServer objects' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(
      z.strictObject({
        urls: z.union([z.string(), z.array(z.string())]),
        username: z.string().optional(),
        credential: z.string().optional(),
      }),
    ),
  );

/** An allow-list of host patterns (contracts/egress-policy.ts), checked when the configuration is read. */
const hostAllowList = z.string().transform((text, ctx) => {
  try {
    return HostAllowList.parse(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of host patterns: ${(error as Error).message}` });
    return z.NEVER;
  }
});

/** How long the worker waits for the page to answer a command unless ROOMLINE_PAGE_TIMEOUT_MS says otherwise. */
export const DEFAULT_PAGE_TIMEOUT_MS = 15_000;

/** Environment of the client library and the CLI's dial/status/hangup. */
export const clientEnvSchema = z.object({
  /** URL of the dial queue. Required. */
  ROOMLINE_QUEUE_URL: z.string().url('must be the SQS queue URL'),
  /** Name of the calls table. Required. */
  ROOMLINE_TABLE: z.string().min(3, 'must be the DynamoDB table name'),
  /** AWS region. @default "us-east-1" when an endpoint override is set, else the SDK's own resolution */
  AWS_REGION: z.string().optional(),
  /**
   * Hosts of room servers a call may make the bot connect to: comma-separated patterns (`*`, `name`, `*.name`, an IP
   * address or CIDR range; see contracts/egress-policy.ts). Loopback, private, link-local and metadata addresses and
   * internal names pass only when listed. A client or CLI with this set refuses such requests before sending them.
   * @default "*" in a worker (public names and addresses); unset in a client (the worker decides)
   */
  ROOMLINE_ROOM_HOSTS: hostAllowList.optional(),
  /** Hosts a SIP call without a trunk may be sent to (the host of `to`), as ROOMLINE_ROOM_HOSTS. @default as ROOMLINE_ROOM_HOSTS */
  ROOMLINE_SIP_HOSTS: hostAllowList.optional(),
});

/** Environment of a worker. */
export const workerEnvSchema = clientEnvSchema.extend({
  /** Janus WebSocket URLs used for the SIP leg, comma-separated; one is picked per worker. Required. */
  ROOMLINE_JANUS_URLS: wsUrlList,
  /** This worker's id in call records and logs. @default the ECS task id, else "<hostname>-<pid>" */
  ROOMLINE_WORKER_ID: z.string().min(1).max(128).optional(),
  /**
   * Which Chromium build the worker runs: `system` (the distribution's, `/usr/bin/chromium` or ROOMLINE_CHROMIUM_PATH)
   * or `sparticuz` (the `@sparticuz/chromium` package: a headless-shell build made for serverless, unpacked to /tmp
   * on first launch). @default "system"
   */
  ROOMLINE_CHROMIUM: z.enum(CHROMIUM_BUILDS).default('system'),
  /** Chromium executable of the `system` build. @default /usr/bin/chromium, else /usr/bin/chromium-browser */
  ROOMLINE_CHROMIUM_PATH: z.string().min(1).optional(),
  /**
   * Folder of the built bot page the worker serves its Chromium (end-to-end tests point it at a build whose CPaaS SDKs
   * are the lab's typed fakes). @default dist/bot-page of the package
   */
  ROOMLINE_BOT_PAGE_DIR: z.string().min(1).optional(),
  /** Network namespace Chromium runs in (the lab sets it; needs root). @default none */
  ROOMLINE_CHROMIUM_NETNS: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional(),
  /** SIP identity used as From when a request has none. @default "sip:roomline@roomline.invalid" */
  ROOMLINE_SIP_FROM: z.string().regex(/^sips?:\S+$/, 'must be a sip: URI').default('sip:roomline@roomline.invalid'),
  /**
   * A JSON file of SIP trunks by name (worker/trunks.ts); when set, trunks come from it instead of Secrets Manager.
   * @default none: trunks come from Secrets Manager (`ROOMLINE_TRUNK_SECRET_PREFIX`)
   */
  ROOMLINE_TRUNKS_FILE: z.string().min(1).optional(),
  /** ICE servers (STUN/TURN) for both legs, as a JSON array of RTCIceServer. @default [] */
  ROOMLINE_ICE_SERVERS: iceServers.default([]),
  /** Receives after which a retryable failure becomes final (match the queue's maxReceiveCount). @default 3 */
  ROOMLINE_MAX_RECEIVES: positiveInt(3),
  /** Visibility timeout set on a received message, renewed while the call lasts; longer than the lease. @default 30 */
  ROOMLINE_VISIBILITY_TIMEOUT_S: positiveInt(30),
  /**
   * Long-poll wait of an idle worker, in seconds (1-20). A stopping worker lets its poll finish rather than abort it
   * (an aborted poll can strand a message until its visibility timeout), so this bounds how long a stop takes.
   * @default 5
   */
  ROOMLINE_POLL_WAIT_S: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(20).default(5),
  /**
   * Lease on a claimed call, renewed every third of its length; a worker that stops renewing it for this long is
   * considered lost, and its call is closed as WORKER_LOST. Must be shorter than ROOMLINE_VISIBILITY_TIMEOUT_S.
   * @default 20
   */
  ROOMLINE_LEASE_S: positiveInt(20),
  /**
   * How often this worker sweeps the calls table for calls whose lease ran out (their worker is gone) and closes them
   * as FAILED WORKER_LOST, in seconds; every worker sweeps, idle or busy; 0 = never. @default 10
   */
  ROOMLINE_SWEEP_INTERVAL_S: z.coerce.number({ error: 'must be a whole number' }).int().min(0).default(10),
  /**
   * Longest wait for one DynamoDB or SQS request, in ms (a long poll gets its wait on top); the SDK retries a failed
   * request twice with backoff. At most a third of the lease. @default 3000
   */
  ROOMLINE_AWS_REQUEST_TIMEOUT_MS: positiveInt(3_000),
  /** Days a finished call's record is kept (DynamoDB TTL). @default 30 */
  ROOMLINE_RECORD_TTL_DAYS: positiveInt(30),
  /** How often a connected call's quality summary (getStats) is written into its record, in seconds; 0 = only at the end. @default 10 */
  ROOMLINE_QUALITY_INTERVAL_S: z.coerce.number({ error: 'must be a whole number' }).int().min(0).default(10),
  /** Longest time to wait for the page to answer a command, in ms. @default 15000 */
  ROOMLINE_PAGE_TIMEOUT_MS: positiveInt(DEFAULT_PAGE_TIMEOUT_MS),
  /** Seconds a worker waits idle for a call before it exits; 0 = wait forever. @default 0 */
  ROOMLINE_IDLE_EXIT_S: z.coerce.number({ error: 'must be a whole number' }).int().min(0).default(0),
  /**
   * Launch Chromium and open the Janus session before taking a call (a warm worker). `false` starts them only when a
   * dial message arrives: a cold start, slower to ring; it exists to measure what warming saves. @default true
   */
  ROOMLINE_PREWARM: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /**
   * Forward encoded audio between the legs without decoding it, where both legs carry the same codec (Opus) and the
   * bot owns the room's connections (Janus VideoRoom): less delay and CPU. `off` decodes, mixes and encodes every
   * frame, as for a room of several speakers. @default "on"
   */
  ROOMLINE_ENCODED_FORWARDING: z.enum(['on', 'off']).default('on'),
  /** Largest video frame the worker sends or publishes, whatever the request asks. @default 1280x720 */
  ROOMLINE_MAX_VIDEO_WIDTH: positiveInt(1280),
  ROOMLINE_MAX_VIDEO_HEIGHT: positiveInt(720),
  /** Highest video frame rate the worker produces. @default 30 */
  ROOMLINE_MAX_VIDEO_FPS: positiveInt(30),
  /** pino log level. @default "info" */
  ROOMLINE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /**
   * The Janus API secret (`api_secret`) of the SIP nodes, sent with every request of the worker's Janus session. On AWS
   * it comes from Secrets Manager (the construct injects it). @default none: the SIP nodes must not require one
   */
  ROOMLINE_JANUS_API_SECRET: z.string().min(1).max(1024).regex(/^[\u0020-\u007e]+$/, 'must be printable ASCII').optional(),
  /**
   * The SIP outbound proxy of every dialled call, as the Janus node reaches it: guest calls and UDP trunks without an
   * outbound proxy of their own send their SIP through it. The construct's Janus nodes run one beside Janus (their SIP
   * edge, which gives peers the node's public address to answer to). @default none: Janus sends SIP itself
   */
  ROOMLINE_SIP_OUTBOUND_PROXY: z.string().regex(/^sip:[^@\s]+$/, 'must be a sip: URI without a user').optional(),
  /**
   * Chromium's own sandbox (renderers in namespaces and under seccomp-bpf). `off` passes --no-sandbox: an explicit,
   * documented opt-out for platforms where no sandbox layer can start (AWS Fargate: no user namespaces, no
   * CAP_SYS_ADMIN for the setuid helper). @default "on"
   */
  ROOMLINE_CHROMIUM_SANDBOX: z.enum(['on', 'off']).default('on'),
  /**
   * The unprivileged user Chromium runs as (a name, or uid:gid), apart from the worker: its processes then cannot read
   * the worker's environment or memory. Needs a worker running as root (the lab) or ROOMLINE_CHROMIUM_SETPRIV with
   * CAP_SETUID/CAP_SETGID (the image). @default none: Chromium runs as the worker's user (refused when that is root)
   */
  ROOMLINE_CHROMIUM_USER: z.string().regex(/^(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10}:\d{1,10})$/, 'must be a user name or uid:gid').optional(),
  /**
   * Origins the bot page may always reach besides the Janus nodes, comma-separated `scheme://host:port` (e.g. a lab's
   * test instruments). Configuration, like the Janus URLs: never from a dial request. @default none
   */
  ROOMLINE_EXTRA_BROWSER_ORIGINS: z
    .string()
    .transform((text) => text.split(',').map((o) => o.trim()).filter((o) => o.length > 0))
    .pipe(z.array(z.string().regex(/^(?:wss?|https?):\/\/[^\s/@?#]+$/, 'each entry must be an origin such as ws://127.0.0.1:8091')))
    .default([]),
  /** The setpriv(1) that switches Chromium to ROOMLINE_CHROMIUM_USER. @default "/usr/bin/setpriv" */
  ROOMLINE_CHROMIUM_SETPRIV: z.string().regex(/^\/\S+$/, 'must be an absolute path').default('/usr/bin/setpriv'),
  /**
   * Dial-in: the registrar (SIP URI, e.g. sip:10.0.1.5:5060) idle workers register with as contacts of the inbound
   * address. Setting it turns dial-in on, and then ROOMLINE_DIAL_IN_SECRET and ROOMLINE_ROUTES_TABLE are required.
   * @default none: the worker only dials out
   */
  ROOMLINE_DIAL_IN_REGISTRAR: z.string().regex(/^sips?:\S+$/, 'must be a sip: URI').optional(),
  /** Dial-in: the inbound address the workers register as. @default "sip:inbound@<the registrar's host>" */
  ROOMLINE_DIAL_IN_AOR: z.string().regex(/^sips?:[^@\s]+@\S+$/, 'must be a sip: URI with a user').optional(),
  /** Dial-in: the inbound address's password at the registrar (from a secret; never logged). */
  ROOMLINE_DIAL_IN_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  /** Dial-in: the routes table (DynamoDB). */
  ROOMLINE_ROUTES_TABLE: z.string().min(3, 'must be the DynamoDB table name').optional(),
});

export interface ClientConfig {
  readonly queueUrl: string;
  readonly tableName: string;
  readonly region: string | undefined;
  /** The allow-lists, when the environment names at least one (a client then refuses early what a worker would). */
  readonly egress: EgressPolicy | undefined;
}

export interface WorkerConfig extends ClientConfig {
  readonly janusUrls: readonly string[];
  readonly workerId: string;
  /** Which Chromium build runs the bot page. */
  readonly chromiumBuild: ChromiumBuild;
  readonly chromiumPath: string | undefined;
  readonly chromiumNetns: string | undefined;
  /** The built bot page to serve; undefined: the package's own (dist/bot-page). */
  readonly botPageDir: string | undefined;
  readonly defaultFrom: string;
  readonly trunksFile: string | undefined;
  readonly iceServers: readonly { urls: string | string[]; username?: string; credential?: string }[];
  readonly maxReceives: number;
  readonly visibilityTimeoutS: number;
  readonly pollWaitS: number;
  readonly leaseS: number;
  readonly sweepIntervalS: number;
  readonly awsRequestTimeoutMs: number;
  readonly recordTtlDays: number;
  readonly pageTimeoutMs: number;
  readonly qualityIntervalS: number;
  readonly idleExitS: number;
  readonly prewarm: boolean;
  /** Forward encoded audio between the legs where it can (ROOMLINE_ENCODED_FORWARDING). */
  readonly encodedForwarding: boolean;
  readonly videoCaps: { readonly width: number; readonly height: number; readonly fps: number };
  readonly logLevel: string;
  /** Where calls may make the bot connect (ROOMLINE_ROOM_HOSTS, ROOMLINE_SIP_HOSTS); the worker always has one. */
  readonly egress: EgressPolicy;
  readonly janusApiSecret: string | undefined;
  /** ROOMLINE_SIP_OUTBOUND_PROXY. */
  readonly sipOutboundProxy: string | undefined;
  /** Origins the bot page may always reach besides the Janus nodes (ROOMLINE_EXTRA_BROWSER_ORIGINS). */
  readonly extraBrowserOrigins: readonly string[];
  /** How Chromium is isolated: its sandbox, the user it runs as and the setpriv that switches to that user. */
  readonly chromiumIsolation: { readonly sandbox: boolean; readonly user: string | undefined; readonly setpriv: string };
  /** Dial-in, when ROOMLINE_DIAL_IN_REGISTRAR is set. */
  readonly dialIn: DialInConfig | undefined;
  /** Metrics, task protection and trunk secrets (worker/aws/aws-env.ts). */
  readonly aws: AwsModeConfig;
}

function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
    .join('\n');
  throw new RoomlineError('INVALID_REQUEST', `configuration error:\n${problems}`);
}

function regionFor(env: NodeJS.ProcessEnv, region: string | undefined): string | undefined {
  const overridden = env['AWS_ENDPOINT_URL'] ?? env['AWS_ENDPOINT_URL_SQS'] ?? env['AWS_ENDPOINT_URL_DYNAMODB'];
  return region ?? (overridden === undefined ? undefined : 'us-east-1');
}

export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const parsed = parseEnv(clientEnvSchema, env);
  return {
    queueUrl: parsed.ROOMLINE_QUEUE_URL,
    tableName: parsed.ROOMLINE_TABLE,
    region: regionFor(env, parsed.AWS_REGION),
    egress: parsed.ROOMLINE_ROOM_HOSTS === undefined && parsed.ROOMLINE_SIP_HOSTS === undefined ? undefined : egressFrom(parsed),
  };
}

function egressFrom(parsed: { ROOMLINE_ROOM_HOSTS?: HostAllowList | undefined; ROOMLINE_SIP_HOSTS?: HostAllowList | undefined }): EgressPolicy {
  const rooms = parsed.ROOMLINE_ROOM_HOSTS ?? HostAllowList.parse(DEFAULT_HOST_ALLOW_LIST);
  return { rooms, sip: parsed.ROOMLINE_SIP_HOSTS ?? rooms };
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = parseEnv(workerEnvSchema, env);
  if (parsed.ROOMLINE_CHROMIUM === 'sparticuz' && parsed.ROOMLINE_CHROMIUM_PATH !== undefined) {
    throw new RoomlineError(
      'INVALID_REQUEST',
      'configuration error:\n  ROOMLINE_CHROMIUM_PATH: names the system build\'s executable; unset it to run ROOMLINE_CHROMIUM=sparticuz',
    );
  }
  if (parsed.ROOMLINE_CHROMIUM === 'sparticuz' && parsed.ROOMLINE_CHROMIUM_SANDBOX === 'on') {
    throw new RoomlineError(
      'INVALID_REQUEST',
      'configuration error:\n  ROOMLINE_CHROMIUM: sparticuz runs single-process without a sandbox: set ROOMLINE_CHROMIUM_SANDBOX=off to run it',
    );
  }
  const timing = leaseTimingProblems(
    {
      visibilityTimeoutS: parsed.ROOMLINE_VISIBILITY_TIMEOUT_S,
      leaseS: parsed.ROOMLINE_LEASE_S,
      awsRequestTimeoutMs: parsed.ROOMLINE_AWS_REQUEST_TIMEOUT_MS,
    },
    {
      visibilityTimeoutS: 'ROOMLINE_VISIBILITY_TIMEOUT_S',
      leaseS: 'ROOMLINE_LEASE_S',
      awsRequestTimeoutMs: 'ROOMLINE_AWS_REQUEST_TIMEOUT_MS',
    },
  );
  if (timing.length > 0) {
    throw new RoomlineError('INVALID_REQUEST', `configuration error:\n${timing.map((p) => `  ${p}`).join('\n')}`);
  }
  return {
    queueUrl: parsed.ROOMLINE_QUEUE_URL,
    tableName: parsed.ROOMLINE_TABLE,
    region: regionFor(env, parsed.AWS_REGION),
    egress: egressFrom(parsed),
    janusUrls: parsed.ROOMLINE_JANUS_URLS,
    workerId: parsed.ROOMLINE_WORKER_ID ?? defaultWorkerId(env),
    chromiumBuild: parsed.ROOMLINE_CHROMIUM,
    chromiumPath: parsed.ROOMLINE_CHROMIUM_PATH,
    chromiumNetns: parsed.ROOMLINE_CHROMIUM_NETNS,
    botPageDir: parsed.ROOMLINE_BOT_PAGE_DIR,
    defaultFrom: parsed.ROOMLINE_SIP_FROM,
    trunksFile: parsed.ROOMLINE_TRUNKS_FILE,
    iceServers: parsed.ROOMLINE_ICE_SERVERS,
    maxReceives: parsed.ROOMLINE_MAX_RECEIVES,
    visibilityTimeoutS: parsed.ROOMLINE_VISIBILITY_TIMEOUT_S,
    pollWaitS: parsed.ROOMLINE_POLL_WAIT_S,
    leaseS: parsed.ROOMLINE_LEASE_S,
    sweepIntervalS: parsed.ROOMLINE_SWEEP_INTERVAL_S,
    awsRequestTimeoutMs: parsed.ROOMLINE_AWS_REQUEST_TIMEOUT_MS,
    recordTtlDays: parsed.ROOMLINE_RECORD_TTL_DAYS,
    pageTimeoutMs: parsed.ROOMLINE_PAGE_TIMEOUT_MS,
    qualityIntervalS: parsed.ROOMLINE_QUALITY_INTERVAL_S,
    idleExitS: parsed.ROOMLINE_IDLE_EXIT_S,
    prewarm: parsed.ROOMLINE_PREWARM,
    encodedForwarding: parsed.ROOMLINE_ENCODED_FORWARDING === 'on',
    videoCaps: {
      width: parsed.ROOMLINE_MAX_VIDEO_WIDTH,
      height: parsed.ROOMLINE_MAX_VIDEO_HEIGHT,
      fps: parsed.ROOMLINE_MAX_VIDEO_FPS,
    },
    logLevel: parsed.ROOMLINE_LOG_LEVEL,
    janusApiSecret: parsed.ROOMLINE_JANUS_API_SECRET,
    sipOutboundProxy: parsed.ROOMLINE_SIP_OUTBOUND_PROXY,
    extraBrowserOrigins: parsed.ROOMLINE_EXTRA_BROWSER_ORIGINS,
    chromiumIsolation: {
      sandbox: parsed.ROOMLINE_CHROMIUM_SANDBOX === 'on',
      user: parsed.ROOMLINE_CHROMIUM_USER,
      setpriv: parsed.ROOMLINE_CHROMIUM_SETPRIV,
    },
    dialIn: dialInConfig(parsed),
    aws: loadAwsModeConfig(env),
  };
}

function dialInConfig(parsed: z.output<typeof workerEnvSchema>): DialInConfig | undefined {
  const registrar = parsed.ROOMLINE_DIAL_IN_REGISTRAR;
  if (registrar === undefined) return undefined;
  const missing = [
    parsed.ROOMLINE_DIAL_IN_SECRET === undefined ? 'ROOMLINE_DIAL_IN_SECRET' : undefined,
    parsed.ROOMLINE_ROUTES_TABLE === undefined ? 'ROOMLINE_ROUTES_TABLE' : undefined,
  ].filter((name) => name !== undefined);
  if (missing.length > 0) {
    throw new RoomlineError('INVALID_REQUEST', `configuration error:\n  ${missing.join(', ')}: required with ROOMLINE_DIAL_IN_REGISTRAR`);
  }
  if (!parsed.ROOMLINE_PREWARM) {
    throw new RoomlineError('INVALID_REQUEST', 'configuration error:\n  ROOMLINE_PREWARM: dial-in needs warm workers (true)');
  }
  const host = /^sips?:(?:[^@]+@)?([^:;>]+)/.exec(registrar)?.[1] ?? 'roomline.invalid';
  return {
    registrar,
    aor: parsed.ROOMLINE_DIAL_IN_AOR ?? `sip:inbound@${host}`,
    secret: parsed.ROOMLINE_DIAL_IN_SECRET!,
    routesTable: parsed.ROOMLINE_ROUTES_TABLE!,
  };
}

/** On ECS the task id (last part of the task ARN in the metadata URI); elsewhere host and pid. */
function defaultWorkerId(env: NodeJS.ProcessEnv): string {
  const metadataUri = env['ECS_CONTAINER_METADATA_URI_V4'];
  const taskId = metadataUri?.match(/\/v4\/([0-9a-f]{32})/)?.[1];
  return taskId ?? `${hostname()}-${process.pid}`;
}
