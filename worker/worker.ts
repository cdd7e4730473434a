import type { Page } from 'puppeteer-core';
import type { CallRecord, CallState } from '../contracts/call-record.js';
import { RoomlineError } from '../contracts/errors.js';
import { roomOrigins } from '../contracts/rooms/index.js';
import { createAwsMode, protectionMinutesFor, type AwsMode } from './aws/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrowserSource, PageSite, type BrowserSourceOptions } from './browser-source.js';
import { ChimeAttendees } from './chime-attendees.js';
import { CallSession, type InboundCallOptions, type SessionOutcome } from './call-session.js';
import { transition } from './call-state.js';
import { DialIn, type ClaimedInbound } from './dial-in.js';
import { RouteStore } from './route-store.js';
import type { DialRequest } from '../contracts/dial-request.js';
import { CallStore } from './call-store.js';
import { CallSweeper } from './call-sweeper.js';
import type { WorkerConfig } from './config.js';
import { DialQueue, type DialMessage } from './dial-queue.js';
import { refusedDestinations } from './egress.js';
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

/** A warm worker's browser and its Janus session (which may be lost and reopened while idle). */
interface Warm {
  readonly browser: BrowserSource;
  readonly site: PageSite;
  readonly page: Page;
  readonly bridge: PageBridge;
  janusNode: string;
  /** False once the page reported its Janus session lost; a new one is opened before the next claim. */
  janusOpen: boolean;
}

/**
 * How long the page may take to open a Janus session (connect within 5 s, then a few requests). An answer that comes
 * later is not lost: asked again, the page reports the session it opened meanwhile.
 */
const JANUS_INIT_TIMEOUT_MS = 20_000;
/** The pre-claim check: Janus must answer a keepalive within this, and the page the check within this and 5 s more. */
const HEALTH_TIMEOUT_MS = 1_500;
const PAGE_HEALTH_GRACE_MS = 5_000;

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
  private readonly sweeper: CallSweeper;
  private stopping = false;
  /** Set when the browser crashed or the page stopped answering while idle: the worker exits to be replaced. */
  private broken: string | undefined;
  private session: CallSession | undefined;
  /** Set as warm-up proceeds, so teardown closes whatever was started. */
  private browser: BrowserSource | undefined;
  private bridge: PageBridge | undefined;
  private tornDown: Promise<void> | undefined;
  /** Dial-in (when configured): the registration and the INVITEs that reach this worker. */
  private dialIn: DialIn | undefined;
  private routes: RouteStore | undefined;
  /** Taken by a call (dialled or inbound) or by an INVITE being claimed: nothing else may start. */
  private busy = false;
  /** The inbound call this worker claimed, running. */
  private inboundRun: Promise<CallRecord> | undefined;
  /** Chime attendees for meetingId joins, made on the first such call. */
  private chime: ChimeAttendees | undefined;

  constructor(
    private readonly config: WorkerConfig,
    logger?: Logger,
  ) {
    this.logger = logger ?? createLogger({ level: config.logLevel, base: { workerId: config.workerId } });
    const region = config.region === undefined ? {} : { region: config.region };
    this.store = new CallStore(config.tableName, {
      ...region,
      recordTtlDays: config.recordTtlDays,
      requestTimeoutMs: config.awsRequestTimeoutMs,
    });
    this.queue = new DialQueue(config.queueUrl, { ...region, requestTimeoutMs: config.awsRequestTimeoutMs });
    this.aws = createAwsMode(config.aws, { region: config.region });
    this.trunks = config.trunksFile === undefined ? this.aws.trunks : new TrunkFile(config.trunksFile);
    this.sweeper = new CallSweeper({
      store: this.store,
      logger: this.logger,
      intervalMs: config.sweepIntervalS * 1000,
      onClosed: () => this.aws.metrics.callFailed('WORKER_LOST'),
    });
  }

  /** Asks the worker to stop: an idle worker stops polling; a worker in a call hangs up and records the end. */
  stop(reason: string): void {
    if (this.stopping) return;
    this.logger.info({ reason }, 'stopping');
    this.stopping = true;
    this.session?.shutdown();
    // out of the registrar at once: INVITEs go to workers that stay
    void this.dialIn?.unregister();
  }

  async run(): Promise<number> {
    // every worker sweeps for calls whose worker is gone, from start to exit, idle or busy
    this.sweeper.start();
    try {
      return await this.poll(this.config.prewarm ? await this.warmUp({ untilJanusAnswers: true }) : undefined);
    } catch (error) {
      const failure = RoomlineError.from(error);
      this.logger.error({ code: failure.code, error: failure.message }, 'worker failed');
      return 1;
    } finally {
      await this.teardown();
    }
  }

  /**
   * Launches Chromium, loads the bot page and opens its Janus session. A warm worker (`untilJanusAnswers`) that finds
   * no Janus node answering keeps trying with backoff rather than exiting (a pool of workers restarting Chromium in a
   * loop while Janus is down helps nobody; the pool's idle-worker gauge shows it); a cold worker, which holds a claimed
   * call, fails at once so that the call goes back to the queue.
   */
  private async warmUp(options: { untilJanusAnswers: boolean }): Promise<Warm> {
    const started = Date.now();
    this.aws.gauge.start();
    const browser = await BrowserSource.launch({
      logger: this.logger,
      build: this.config.chromiumBuild,
      ...(this.config.chromiumPath === undefined ? {} : { executablePath: this.config.chromiumPath }),
      ...(this.config.chromiumNetns === undefined ? {} : { netns: this.config.chromiumNetns }),
      ...browserIsolationOf(this.config),
    });
    this.browser = browser;
    browser.onCrash((reason) => {
      this.logger.error({ reason, inCall: this.session !== undefined }, 'browser crashed');
      if (this.session !== undefined) this.session.browserCrashed(reason);
      else this.broken = `browser crashed: ${reason}`;
    });
    const site = await PageSite.load(this.config.botPageDir ?? botPageDir());
    const page = await browser.newPage(site);
    const bridge = await PageBridge.attach(page, { logger: this.logger, commandTimeoutMs: this.config.pageTimeoutMs });
    this.bridge = bridge;
    await browser.load(page);
    await bridge.waitReady();
    const warm: Warm = { browser, site, page, bridge, janusNode: '', janusOpen: false };
    await this.openJanus(warm);
    for (let attempt = 0; !warm.janusOpen && options.untilJanusAnswers && !this.stopping; attempt++) {
      const waitMs = Math.min(10_000, 1_000 * 2 ** attempt);
      this.logger.error({ janusUrls: this.config.janusUrls, retryInMs: waitMs }, 'no Janus node answers: trying again');
      await sleep(waitMs);
      await this.openJanus(warm);
    }
    if (!warm.janusOpen && !this.stopping) throw new RoomlineError('JANUS_UNAVAILABLE', 'no configured Janus node answered');
    // while idle: a lost Janus session is reopened before the next claim; a page that stops answering ends the worker
    bridge.on('janus-lost', (event) => {
      // the call's own session handles a loss during the call; after it the worker leaves anyway
      if (this.session !== undefined || this.tornDown !== undefined) return;
      warm.janusOpen = false;
      this.logger.warn({ janusNode: warm.janusNode, reason: event.reason }, 'Janus session lost while idle');
    });
    bridge.onUnresponsive((reason) => {
      if (this.session === undefined) this.broken = `bot page unresponsive: ${reason}`;
    });
    // warm means reachable both ways: on the queue, and (with dial-in) at the registrar
    if (!this.stopping) await this.startDialIn(warm);
    const warmMs = Date.now() - started;
    this.logger.info({ warmMs }, 'worker warm: waiting for a call');
    notify({ type: 'roomline-worker', state: 'ready', warmMs, janusNode: warm.janusNode });
    return warm;
  }

  /**
   * Opens the page's Janus session on the first configured node that answers: this worker's own order (a hash of its
   * id spreads workers over the nodes), except that a node just lost is tried last.
   */
  private async openJanus(warm: Warm): Promise<void> {
    const order = orderJanusNodes(this.config.janusUrls, this.config.workerId);
    const lost = warm.janusNode;
    const nodes = lost === '' ? order : [...order.filter((url) => url !== lost), ...order.filter((url) => url === lost)];
    for (const url of nodes) {
      try {
        const info = await warm.bridge.send(
          {
            type: 'init',
            janusUrl: url,
            iceServers: [...this.config.iceServers],
            encodedForwarding: this.config.encodedForwarding,
            ...(this.config.janusApiSecret === undefined ? {} : { apiSecret: this.config.janusApiSecret }),
            ...(this.config.sipOutboundProxy === undefined ? {} : { sipOutboundProxy: this.config.sipOutboundProxy }),
            ...(this.config.extraBrowserOrigins.length === 0 ? {} : { allowOrigins: [...this.config.extraBrowserOrigins] }),
          },
          JANUS_INIT_TIMEOUT_MS,
        );
        warm.janusNode = url;
        warm.janusOpen = true;
        this.logger.info({ janusNode: url, server: info.janusServer, reopened: lost !== '' }, 'Janus session open');
        // a reopened session has lost the dial-in registration, which lived on the old one
        if (lost !== '' && this.dialIn !== undefined && !this.busy && !this.stopping) await this.registerAgain();
        return;
      } catch (error) {
        this.logger.warn({ janusNode: url, error: String(error) }, 'Janus node unavailable, trying the next');
      }
    }
  }

  /**
   * Whether this warm worker can place a call now, checked after a message arrived and before it is claimed: the page
   * answers, and its Janus session answers a keepalive; a session that is gone or silent is reopened (on another node
   * first). False: the message goes back to the queue at once for another worker.
   */
  private async readyToClaim(warm: Warm): Promise<boolean> {
    if (this.broken !== undefined) return false;
    if (warm.janusOpen) {
      try {
        const health = await warm.bridge.send(
          { type: 'health', timeoutMs: HEALTH_TIMEOUT_MS },
          HEALTH_TIMEOUT_MS + PAGE_HEALTH_GRACE_MS,
        );
        if (health.janus === 'open') return true;
        warm.janusOpen = false;
        this.logger.warn({ janusNode: warm.janusNode, janus: health.janus }, 'Janus session unusable at claim: reopening it');
      } catch (error) {
        this.broken = `the bot page did not answer its health check: ${String(error)}`;
        return false;
      }
    }
    await this.openJanus(warm);
    return warm.janusOpen;
  }

  /**
   * Takes messages until one becomes a call. A warm worker checks its page and Janus session before each claim and
   * reopens a lost session (on another node first); a cold worker (`prewarmed` undefined) warms up after the claim,
   * so that a warm-up failure is a retryable failure of the call like any other. A queue that cannot be reached is
   * polled again with backoff (at most 2 s apart); a browser that crashed while idle ends the worker (exit 1) for a
   * fresh one.
   */
  private async poll(prewarmed: Warm | undefined): Promise<number> {
    const state = { warm: prewarmed };
    const idleSince = Date.now();
    let pollFailures = 0;
    let healFailures = 0;
    this.aws.gauge.set('idle');
    if (state.warm === undefined) notify({ type: 'roomline-worker', state: 'ready', warmMs: 0, janusNode: '' });
    try {
      while (!this.stopping && this.inboundRun === undefined) {
        if (this.broken !== undefined) {
          this.logger.error({ reason: this.broken }, 'the browser is unusable: exiting to be replaced');
          return 1;
        }
        if (this.config.idleExitS > 0 && Date.now() - idleSince > this.config.idleExitS * 1000) {
          this.logger.info({ idleExitS: this.config.idleExitS }, 'idle for too long: exiting');
          return 0;
        }
        const warm = state.warm;
        if (warm !== undefined && !warm.janusOpen) {
          // no message is taken while no Janus node answers; try again after a pause that grows to 5 s
          await this.openJanus(warm);
          if (!warm.janusOpen) await sleep(Math.min(5_000, 1_000 * 2 ** healFailures++));
          else healFailures = 0;
          continue;
        }
        // A long poll is never aborted: SQS may already have handed a message to it, which would then stay invisible
        // until its visibility timeout. Short polls keep a stop prompt; a message that arrives as the worker stops
        // goes straight back to the queue.
        let message: DialMessage | undefined;
        try {
          message = await this.queue.receiveOne({ waitS: this.config.pollWaitS, visibilityS: this.config.visibilityTimeoutS });
          pollFailures = 0;
        } catch (error) {
          const waitMs = Math.min(2_000, 250 * 2 ** pollFailures++);
          this.logger.warn({ error: String(error), retryInMs: waitMs }, 'polling the dial queue failed: retrying');
          await sleep(waitMs);
          continue;
        }
        if (message === undefined) continue;
        if (this.stopping) {
          await this.queue.handBack(message, 0).catch(() => undefined);
          this.logger.info('stopping: a message that arrived meanwhile was handed back');
          break;
        }
        if (this.busy) {
          // an inbound call took this worker while it polled: the message goes to another worker at once
          await this.queue.handBack(message, 0).catch(() => undefined);
          this.logger.info('taken by an inbound call: a message that arrived meanwhile was handed back');
          continue;
        }
        this.busy = true;
        if (warm !== undefined && !(await this.readyToClaim(warm))) {
          this.busy = false;
          await this.queue.handBack(message, 0).catch(() => undefined);
          this.logger.warn({ reason: this.broken ?? 'no Janus node answers' }, 'not ready to place a call: message handed back unclaimed');
          continue;
        }
        const handled = await this.handle(message, state);
        if (handled.kind === 'call') {
          notify({ type: 'roomline-worker', state: 'done', callId: handled.record.callId });
          return 0;
        }
        // not a call (invalid, duplicate, lost, cancelled): the browser was not touched, so the worker stays warm
        await this.releaseProtection();
        this.busy = false;
        if (this.dialIn !== undefined && !this.stopping) await this.registerAgain();
        this.aws.gauge.set('idle');
      }
      if (this.inboundRun !== undefined) {
        const record = await this.inboundRun;
        notify({ type: 'roomline-worker', state: 'done', callId: record.callId });
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

  private handle(message: DialMessage, state: { warm: Warm | undefined }): Promise<HandledMessage> {
    return handleDialMessage(message, {
      queue: this.queue,
      store: this.store,
      logger: this.logger,
      workerId: this.config.workerId,
      leaseMs: this.config.leaseS * 1000,
      visibilityTimeoutS: this.config.visibilityTimeoutS,
      maxReceives: this.config.maxReceives,
      stopRequested: () => this.stopping,
      refuse: (request) => refusedDestinations(request, this.config.egress),
      beforeClaim: async (request) => {
        this.aws.gauge.set('busy');
        // a worker in a call is no contact for inbound calls
        await this.dialIn?.unregister();
        // protected before the claim: a scale-in between claim and protection would strand a claimed call
        const result = await this.aws.protection.protect(protectionMinutesFor(request.limits));
        this.protectedTask = result.kind !== 'not-on-ecs';
      },
      runCall: async (request, record, logger): Promise<SessionOutcome> => {
        notify({ type: 'roomline-worker', state: 'busy', callId: request.callId });
        this.aws.metrics.callStarted();
        if (state.warm === undefined) {
          // a cold worker warms up now; if it cannot, the call goes back to the queue (nothing was dialed)
          try {
            state.warm = await this.warmUp({ untilJanusAnswers: false });
          } catch (error) {
            const failure = RoomlineError.from(error, 'BROWSER_FAILED');
            logger.warn({ code: failure.code, error: failure.message }, 'warming up for the call failed');
            return {
              kind: 'retry',
              failure: new RoomlineError(failure.code, `warm-up failed: ${failure.message}`, { retryable: true }).toJSON(),
              record,
            };
          }
        }
        return this.runSession(request, record, logger, state.warm);
      },
    });
  }

  /** Runs one call (dialled, or inbound with `inbound`) on the warm page, to its end. */
  private async runSession(
    request: DialRequest & { callId: string },
    record: CallRecord,
    logger: Logger,
    warm: Warm,
    inbound?: InboundCallOptions,
  ): Promise<SessionOutcome> {
    const trunk = request.trunk;
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
          await enterAppPage(prepared.room, {
            ...warm,
            janusUrl: warm.janusNode,
            apiSecret: this.config.janusApiSecret,
            iceServers: this.config.iceServers,
          });
        }
        return prepared;
      },
      ...(inbound === undefined ? {} : { inbound }),
      ...(trunk === undefined ? {} : { trunk: () => this.trunks.get(trunk) }),
    });
    this.session = session;
    if (this.stopping) session.shutdown();
    try {
      return await session.run();
    } finally {
      this.session = undefined;
    }
  }

  /** Registers for dial-in (when configured) once the worker is warm; a registrar that refuses leaves it dial-out only. */
  private async startDialIn(warm: Warm): Promise<void> {
    const config = this.config.dialIn;
    if (config === undefined) return;
    this.routes = new RouteStore(config.routesTable, this.config.region === undefined ? {} : { region: this.config.region });
    const dialIn = new DialIn({
      config,
      bridge: warm.bridge,
      store: this.store,
      routes: this.routes,
      logger: this.logger,
      workerId: this.config.workerId,
      janusNode: warm.janusNode,
      leaseMs: this.config.leaseS * 1000,
      reserve: () => {
        if (this.busy || this.stopping || this.broken !== undefined || !warm.janusOpen) return false;
        this.busy = true;
        return true;
      },
      unreserve: () => {
        this.busy = false;
      },
      run: (claimed) => {
        this.inboundRun = this.runInbound(claimed, warm);
      },
      failed: (record) => this.observe(record, 'CLAIMED'),
    });
    this.dialIn = dialIn;
    await this.registerAgain();
  }

  /** Registers (again) for dial-in; a refusal leaves the worker dial-out only, and says so. */
  private async registerAgain(): Promise<void> {
    await this.dialIn?.register().catch((error: unknown) =>
      this.logger.error({ error: String(error) }, 'registering for dial-in failed: this worker only dials out'),
    );
  }

  /** Runs a claimed inbound call; a failure the queue would retry for a dialled call is final here (the caller is gone). */
  private async runInbound(claimed: ClaimedInbound, warm: Warm): Promise<CallRecord> {
    const logger = this.logger.child({ callId: claimed.request.callId });
    this.aws.gauge.set('busy');
    const protection = await this.aws.protection.protect(protectionMinutesFor(claimed.request.limits)).catch(() => undefined);
    this.protectedTask = protection !== undefined && protection.kind !== 'not-on-ecs';
    notify({ type: 'roomline-worker', state: 'busy', callId: claimed.request.callId });
    this.aws.metrics.callStarted();
    try {
      const outcome = await this.runSession(claimed.request, claimed.record, logger, warm, {
        callerNumber: claimed.record.caller?.number ?? 'unknown',
        ...(claimed.pin === undefined ? {} : { pin: claimed.pin }),
      });
      if (outcome.kind === 'final') return outcome.record;
      const failure = { ...outcome.failure, retryable: false };
      const record = await this.store.update(
        claimed.request.callId,
        (current) =>
          transition(current ?? outcome.record, {
            to: 'FAILED',
            workerId: this.config.workerId,
            now: new Date(),
            failure,
            detail: `${failure.code}: ${failure.reason}`,
          }),
        { known: outcome.record },
      );
      this.observe(record, outcome.record.state);
      return record;
    } catch (error) {
      logger.error({ error: String(error) }, 'the inbound call failed');
      return claimed.record;
    }
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
      // a stopping worker leaves the registrar before its page goes
      await this.dialIn?.unregister();
      this.dialIn?.stop();
      this.routes?.destroy();
      if (this.bridge !== undefined) {
        await this.bridge.send({ type: 'leave' }, 3_000).catch(() => undefined);
        this.bridge.stop();
      }
      if (this.browser !== undefined) await this.browser.close();
      await this.sweeper.stop();
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

/**
 * How a worker's Chromium is isolated: its sandbox and user from the configuration, and every connection through the
 * egress proxy, which allows the Janus nodes for the worker's life and each call's room origins for that call.
 */
export function browserIsolationOf(config: WorkerConfig): Pick<BrowserSourceOptions, 'isolation' | 'egress'> {
  return {
    isolation: config.chromiumIsolation,
    egress: {
      rooms: config.egress.rooms,
      fixedOrigins: [
        ...config.janusUrls.map((url) => new URL(url).origin),
        ...config.extraBrowserOrigins,
        ...iceServerOrigins(config.iceServers),
      ],
    },
  };
}

/**
 * The STUN/TURN servers of the configuration as origins (`tcp://host:port`) the egress proxy may tunnel to: Chromium
 * carries TURN over TCP or TLS through the proxy (over UDP it goes direct).
 */
export function iceServerOrigins(servers: WorkerConfig['iceServers']): string[] {
  const origins: string[] = [];
  for (const server of servers) {
    for (const url of typeof server.urls === 'string' ? [server.urls] : server.urls) {
      const match = /^(turns?|stuns?):(\[[0-9a-fA-F:.]+\]|[^:?\s]+)(?::(\d{1,5}))?/.exec(url);
      if (match === null) continue;
      const port = match[3] ?? (match[1]!.endsWith('s') ? '5349' : '3478');
      origins.push(`tcp://${match[2]!}:${port}`);
    }
  }
  return origins;
}
