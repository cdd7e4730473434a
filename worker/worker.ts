import type { Page } from 'puppeteer-core';
import type { CallRecord, CallState } from '../contracts/call-record.js';
import { RoomlineError } from '../contracts/errors.js';
import { roomOrigins } from '../contracts/rooms/index.js';
import { createAwsMode, protectionMinutesFor, type AwsMode } from './aws/index.js';
import { BrowserSource, PageSite } from './browser-source.js';
import { ChimeAttendees } from './chime-attendees.js';
import { CallSession } from './call-session.js';
import { CallStore } from './call-store.js';
import type { WorkerConfig } from './config.js';
import { DialQueue } from './dial-queue.js';
import { orderJanusNodes } from './janus-nodes.js';
import { createLogger, type Logger } from './logger.js';
import { handleDialMessage, type HandledMessage } from './message-handler.js';
import { PageBridge } from './page-bridge.js';
import { botPageDir } from './paths.js';
import { enterAppPage } from './rooms/page.js';
import { TrunkFile, type TrunkSource } from './trunks.js';

/** Lifecycle notices a worker sends its parent over IPC when it has one (the lab uses them; ECS does not). */
export type WorkerNotice =
  | { readonly type: 'roomline-worker'; readonly state: 'ready'; readonly warmMs: number; readonly janusNode: string }
  | { readonly type: 'roomline-worker'; readonly state: 'busy'; readonly callId: string }
  | { readonly type: 'roomline-worker'; readonly state: 'done'; readonly callId: string | undefined };

/** How long after SIGTERM the worker must be gone. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

interface Warm {
  readonly browser: BrowserSource;
  readonly site: PageSite;
  readonly page: Page;
  readonly bridge: PageBridge;
  readonly janusNode: string;
}

/**
 * One worker, one call: warm up (Chromium, bot page, Janus session), long-poll the dial queue until a message
 * becomes a call, run it, tear down, return the exit code. Ordered setup, one idempotent teardown.
 */
export class Worker {
  private readonly logger: Logger;
  private readonly store: CallStore;
  private readonly queue: DialQueue;
  private readonly aws: AwsMode;
  /** Where trunks come from: the trunks file when configured, else Secrets Manager. */
  private readonly trunks: TrunkSource;
  private stopping = false;
  private session: CallSession | undefined;
  /** Set as warm-up proceeds, so teardown closes whatever was started. */
  private browser: BrowserSource | undefined;
  private bridge: PageBridge | undefined;
  private tornDown: Promise<void> | undefined;
  /** Chime attendees for meetingId joins, made on the first such call. */
  private chime: ChimeAttendees | undefined;

  constructor(
    private readonly config: WorkerConfig,
    logger?: Logger,
  ) {
    this.logger = logger ?? createLogger({ level: config.logLevel, base: { workerId: config.workerId } });
    this.store = new CallStore(config.tableName, {
      ...(config.region === undefined ? {} : { region: config.region }),
      recordTtlDays: config.recordTtlDays,
    });
    this.queue = new DialQueue(config.queueUrl, config.region === undefined ? {} : { region: config.region });
    this.aws = createAwsMode(config.aws, { region: config.region });
    this.trunks = config.trunksFile === undefined ? this.aws.trunks : new TrunkFile(config.trunksFile);
  }

  /** Asks the worker to stop: an idle worker stops polling; a worker in a call hangs up and records the end. */
  stop(reason: string): void {
    if (this.stopping) return;
    this.logger.info({ reason }, 'stopping');
    this.stopping = true;
    this.session?.shutdown();
  }

  async run(): Promise<number> {
    try {
      return await this.poll(this.config.prewarm ? await this.warmUp() : undefined);
    } catch (error) {
      const failure = RoomlineError.from(error);
      this.logger.error({ code: failure.code, error: failure.message }, 'worker failed');
      return 1;
    } finally {
      await this.teardown();
    }
  }

  private async warmUp(): Promise<Warm> {
    const started = Date.now();
    this.aws.gauge.start();
    const browser = await BrowserSource.launch({
      logger: this.logger,
      build: this.config.chromiumBuild,
      ...(this.config.chromiumPath === undefined ? {} : { executablePath: this.config.chromiumPath }),
      ...(this.config.chromiumNetns === undefined ? {} : { netns: this.config.chromiumNetns }),
    });
    this.browser = browser;
    browser.onCrash((reason) => {
      this.logger.error({ reason }, 'browser crashed');
      this.stop('browser crashed');
    });
    const site = await PageSite.load(this.config.botPageDir ?? botPageDir());
    const page = await browser.newPage(site);
    const bridge = await PageBridge.attach(page, { logger: this.logger, commandTimeoutMs: this.config.pageTimeoutMs });
    this.bridge = bridge;
    await browser.load(page);
    await bridge.waitReady();
    let janusNode: string | undefined;
    let lastError: unknown;
    for (const url of orderJanusNodes(this.config.janusUrls, this.config.workerId)) {
      try {
        const info = await bridge.send({ type: 'init', janusUrl: url, iceServers: [...this.config.iceServers] });
        janusNode = url;
        this.logger.info({ janusNode: url, server: info.janusServer }, 'Janus session open');
        break;
      } catch (error) {
        lastError = error;
        this.logger.warn({ janusNode: url, error: String(error) }, 'Janus node unavailable, trying the next');
      }
    }
    if (janusNode === undefined) throw RoomlineError.from(lastError, 'JANUS_UNAVAILABLE');
    const warmMs = Date.now() - started;
    this.logger.info({ warmMs }, 'worker warm: waiting for a call');
    notify({ type: 'roomline-worker', state: 'ready', warmMs, janusNode });
    return { browser, site, page, bridge, janusNode };
  }

  /** Takes messages until one becomes a call; a cold worker (`warm` undefined) warms up on its first message. */
  private async poll(prewarmed: Warm | undefined): Promise<number> {
    let warm = prewarmed;
    const idleSince = Date.now();
    this.aws.gauge.set('idle');
    if (warm === undefined) notify({ type: 'roomline-worker', state: 'ready', warmMs: 0, janusNode: '' });
    try {
      while (!this.stopping) {
        if (this.config.idleExitS > 0 && Date.now() - idleSince > this.config.idleExitS * 1000) {
          this.logger.info({ idleExitS: this.config.idleExitS }, 'idle for too long: exiting');
          return 0;
        }
        // A long poll is never aborted: SQS may already have handed a message to it, which would then stay invisible
        // until its visibility timeout. Short polls keep a stop prompt; a message that arrives as the worker stops
        // goes straight back to the queue.
        const message = await this.queue.receiveOne({
          waitS: this.config.pollWaitS,
          visibilityS: this.config.visibilityTimeoutS,
        });
        if (message === undefined) continue;
        if (this.stopping) {
          await this.queue.handBack(message, 0);
          this.logger.info('stopping: a message that arrived meanwhile was handed back');
          break;
        }
        if (warm === undefined) {
          // a cold worker that cannot warm up gives the message back at once rather than at its visibility timeout
          warm = await this.warmUp().catch(async (error: unknown) => {
            await this.queue.handBack(message, 0).catch(() => undefined);
            throw error;
          });
        }
        const handled = await this.handle(message, warm);
        if (handled.kind === 'call') {
          notify({ type: 'roomline-worker', state: 'done', callId: handled.record.callId });
          return 0;
        }
        // not a call (invalid, duplicate, lost): the browser was not touched, so the worker stays warm
        await this.releaseProtection();
        this.aws.gauge.set('idle');
      }
      return 0;
    } finally {
      await this.releaseProtection();
      this.aws.gauge.stop();
    }
  }

  private protectedTask = false;

  private async releaseProtection(): Promise<void> {
    if (!this.protectedTask) return;
    this.protectedTask = false;
    await this.aws.protection
      .unprotect()
      .catch((error: unknown) => this.logger.warn({ error: String(error) }, 'removing task protection failed'));
  }

  private handle(message: Parameters<typeof handleDialMessage>[0], warm: Warm): Promise<HandledMessage> {
    return handleDialMessage(message, {
      queue: this.queue,
      store: this.store,
      logger: this.logger,
      workerId: this.config.workerId,
      leaseMs: this.config.leaseS * 1000,
      visibilityTimeoutS: this.config.visibilityTimeoutS,
      maxReceives: this.config.maxReceives,
      stopRequested: () => this.stopping,
      beforeClaim: async (request) => {
        this.aws.gauge.set('busy');
        // protected before the claim: a scale-in between claim and protection would strand a claimed call
        const result = await this.aws.protection.protect(protectionMinutesFor(request.limits));
        this.protectedTask = result.kind !== 'not-on-ecs';
      },
      runCall: async (request, record, logger) => {
        notify({ type: 'roomline-worker', state: 'busy', callId: request.callId });
        this.aws.metrics.callStarted();
        const trunk = request.trunk;
        const room = request.room;
        const session = new CallSession({
          request,
          record,
          store: this.store,
          bridge: warm.bridge,
          logger,
          workerId: this.config.workerId,
          janusNode: warm.janusNode,
          defaultFrom: this.config.defaultFrom,
          leaseMs: this.config.leaseS * 1000,
          videoCaps: this.config.videoCaps,
          qualityIntervalMs: this.config.qualityIntervalS * 1000,
          pageTimeoutMs: this.config.pageTimeoutMs,
          observer: { stateChanged: (changed, previous) => this.observe(changed, previous) },
          prepareRoom: async (room, names) => {
            const prepared =
              room.provider === 'chime'
                ? await this.chimeAttendees(logger).prepare(room, names)
                : { room, release: async () => undefined };
            // the page may reach what the joined room needs, and nothing else
            warm.browser.allowOrigins(warm.page, roomOrigins(prepared.room));
            // page mode: the bot's tab goes into the customer's app, and opens its SIP session from there
            if (prepared.room.provider === 'page') {
              await enterAppPage(prepared.room, { ...warm, janusUrl: warm.janusNode, iceServers: this.config.iceServers });
            }
            return prepared;
          },
          ...(trunk === undefined ? {} : { trunk: () => this.trunks.get(trunk) }),
        });
        this.session = session;
        if (this.stopping) session.shutdown();
        try {
          return await session.run();
        } finally {
          this.session = undefined;
        }
      },
    });
  }

  private chimeAttendees(logger: Logger): ChimeAttendees {
    this.chime ??= new ChimeAttendees({ logger, ...(this.config.region === undefined ? {} : { region: this.config.region }) });
    return this.chime;
  }

  /** Call metrics from state changes. */
  private observe(record: CallRecord, previous: CallState): void {
    const metrics = this.aws.metrics;
    const at = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));
    const enqueued = at(record.timings?.enqueuedAt);
    const answered = at(record.timings?.answeredAt);
    switch (record.state) {
      case 'CONNECTED':
        if (enqueued !== undefined && answered !== undefined) metrics.callConnected(answered - enqueued);
        break;
      case 'ENDED': {
        const ended = at(record.timings?.endedAt);
        metrics.callEnded(answered === undefined || ended === undefined ? 0 : (ended - answered) / 1000);
        break;
      }
      case 'FAILED':
        metrics.callFailed(record.failure?.code ?? 'INTERNAL');
        break;
      default:
        break;
    }
    if ((record.state === 'ENDED' || record.state === 'FAILED') && record.quality !== undefined) {
      metrics.callQuality(record.quality);
    }
  }

  /** Leaves the room, closes the page and Chromium. Idempotent. */
  private teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      if (this.bridge !== undefined) {
        await this.bridge.send({ type: 'leave' }, 3_000).catch(() => undefined);
        this.bridge.stop();
      }
      if (this.browser !== undefined) await this.browser.close();
      this.queue.destroy();
      this.store.destroy();
      this.chime?.destroy();
      this.logger.info('worker torn down');
    })();
    return this.tornDown;
  }
}

function notify(notice: WorkerNotice): void {
  if (process.send !== undefined && process.connected) process.send(notice);
}
