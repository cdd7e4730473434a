import { hostname } from 'node:os';
import { z } from 'zod';
import { RoomlineError } from '../contracts/errors.js';
import { loadAwsModeConfig, type AwsModeConfig } from './aws/aws-env.js';
import { CHROMIUM_BUILDS, type ChromiumBuild } from './chromium-builds.js';

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

/** Environment of the client library and the CLI's dial/status/hangup. */
export const clientEnvSchema = z.object({
  /** URL of the dial queue. Required. */
  ROOMLINE_QUEUE_URL: z.string().url('must be the SQS queue URL'),
  /** Name of the calls table. Required. */
  ROOMLINE_TABLE: z.string().min(3, 'must be the DynamoDB table name'),
  /** AWS region. @default "us-east-1" when an endpoint override is set, else the SDK's own resolution */
  AWS_REGION: z.string().optional(),
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
  /** Visibility timeout set on a received message, renewed while the call lasts. @default 30 */
  ROOMLINE_VISIBILITY_TIMEOUT_S: positiveInt(30),
  /**
   * Long-poll wait of an idle worker, in seconds (1-20). A stopping worker lets its poll finish rather than abort it
   * (an aborted poll can strand a message until its visibility timeout), so this bounds how long a stop takes.
   * @default 5
   */
  ROOMLINE_POLL_WAIT_S: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(20).default(5),
  /** Lease on a claimed call; a worker that stops renewing it for this long is considered lost. @default 20 */
  ROOMLINE_LEASE_S: positiveInt(20),
  /** Days a finished call's record is kept (DynamoDB TTL). @default 30 */
  ROOMLINE_RECORD_TTL_DAYS: positiveInt(30),
  /** How often a connected call's quality summary (getStats) is written into its record, in seconds; 0 = only at the end. @default 10 */
  ROOMLINE_QUALITY_INTERVAL_S: z.coerce.number({ error: 'must be a whole number' }).int().min(0).default(10),
  /** Longest time to wait for the page to answer a command, in ms. @default 15000 */
  ROOMLINE_PAGE_TIMEOUT_MS: positiveInt(15_000),
  /** Seconds a worker waits idle for a call before it exits; 0 = wait forever. @default 0 */
  ROOMLINE_IDLE_EXIT_S: z.coerce.number({ error: 'must be a whole number' }).int().min(0).default(0),
  /**
   * Launch Chromium and open the Janus session before taking a call (a warm worker). `false` starts them only when a
   * dial message arrives: a cold start, slower to ring; it exists to measure what warming saves. @default true
   */
  ROOMLINE_PREWARM: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Largest video frame the worker sends or publishes, whatever the request asks. @default 1280x720 */
  ROOMLINE_MAX_VIDEO_WIDTH: positiveInt(1280),
  ROOMLINE_MAX_VIDEO_HEIGHT: positiveInt(720),
  /** Highest video frame rate the worker produces. @default 30 */
  ROOMLINE_MAX_VIDEO_FPS: positiveInt(30),
  /** pino log level. @default "info" */
  ROOMLINE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface ClientConfig {
  readonly queueUrl: string;
  readonly tableName: string;
  readonly region: string | undefined;
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
  readonly recordTtlDays: number;
  readonly pageTimeoutMs: number;
  readonly qualityIntervalS: number;
  readonly idleExitS: number;
  readonly prewarm: boolean;
  readonly videoCaps: { readonly width: number; readonly height: number; readonly fps: number };
  readonly logLevel: string;
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
  };
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = parseEnv(workerEnvSchema, env);
  if (parsed.ROOMLINE_CHROMIUM === 'sparticuz' && parsed.ROOMLINE_CHROMIUM_PATH !== undefined) {
    throw new RoomlineError(
      'INVALID_REQUEST',
      'configuration error:\n  ROOMLINE_CHROMIUM_PATH: names the system build\'s executable; unset it to run ROOMLINE_CHROMIUM=sparticuz',
    );
  }
  return {
    queueUrl: parsed.ROOMLINE_QUEUE_URL,
    tableName: parsed.ROOMLINE_TABLE,
    region: regionFor(env, parsed.AWS_REGION),
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
    recordTtlDays: parsed.ROOMLINE_RECORD_TTL_DAYS,
    pageTimeoutMs: parsed.ROOMLINE_PAGE_TIMEOUT_MS,
    qualityIntervalS: parsed.ROOMLINE_QUALITY_INTERVAL_S,
    idleExitS: parsed.ROOMLINE_IDLE_EXIT_S,
    prewarm: parsed.ROOMLINE_PREWARM,
    videoCaps: {
      width: parsed.ROOMLINE_MAX_VIDEO_WIDTH,
      height: parsed.ROOMLINE_MAX_VIDEO_HEIGHT,
      fps: parsed.ROOMLINE_MAX_VIDEO_FPS,
    },
    logLevel: parsed.ROOMLINE_LOG_LEVEL,
    aws: loadAwsModeConfig(env),
  };
}

/** On ECS the task id (last part of the task ARN in the metadata URI); elsewhere host and pid. */
function defaultWorkerId(env: NodeJS.ProcessEnv): string {
  const metadataUri = env['ECS_CONTAINER_METADATA_URI_V4'];
  const taskId = metadataUri?.match(/\/v4\/([0-9a-f]{32})/)?.[1];
  return taskId ?? `${hostname()}-${process.pid}`;
}
