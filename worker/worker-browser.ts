import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'puppeteer-core';
import { RoomlineError } from '../contracts/errors.js';
import { BrowserSource, type BrowserSourceOptions } from './browser-source.js';
import type { CallSession } from './call-session.js';
import type { WorkerConfig } from './config.js';
import { orderJanusNodes } from './janus-nodes.js';
import type { Logger } from './logger.js';
import { PageBridge } from './page-bridge.js';
import { PageSite } from './page-site.js';
import { botPageDir } from './paths.js';
import { preciseNow, type SetupRecorder } from './setup-recorder.js';

/** A warm worker's browser and its Janus session (which may be lost and reopened while idle). */
export interface Warm {
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
 * A Janus session heard from this recently is known to answer (the page sends a keepalive every 4 s, and Janus answers
 * each): one keepalive period and the health check's own timeout.
 */
const JANUS_KNOWN_FRESH_MS = 4_000 + HEALTH_TIMEOUT_MS;

export interface WorkerBrowserOptions {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  /** The call running now, if any: what goes wrong with the browser during a call is the call's to handle. */
  readonly call: () => CallSession | undefined;
  /** Whether the worker is stopping: a warm-up then stops trying Janus nodes. */
  readonly stopping: () => boolean;
  /** Whether the worker is being torn down: a Janus session lost then no longer matters. */
  readonly tornDown: () => boolean;
  /** A Janus session was opened again after one was lost (what lived on the old one, e.g. a registration, is gone). */
  readonly reopened: () => Promise<void>;
}

/**
 * The worker's browser: Chromium with the bot page and the page's Janus session. Warmed up once (before any call, or
 * after the claim for a cold worker), checked before each claim, its Janus session reopened when lost; closed at
 * teardown, whatever the warm-up got to.
 */
export class WorkerBrowser {
  /** Set when the browser crashed or the page stopped answering while idle: the worker exits to be replaced. */
  broken: string | undefined;
  /** Set as warm-up proceeds, so that close() closes whatever was started. */
  private browser: BrowserSource | undefined;
  private bridge: PageBridge | undefined;

  constructor(private readonly options: WorkerBrowserOptions) {}

  /**
   * Launches Chromium, loads the bot page and opens its Janus session. A warm worker (`untilJanusAnswers`) that finds
   * no Janus node answering keeps trying with backoff rather than exiting (a pool of workers restarting Chromium in a
   * loop while Janus is down helps nobody; the pool's idle-worker gauge shows it); a cold worker, which holds a claimed
   * call, fails at once so that the call goes back to the queue.
   */
  async warmUp(options: { untilJanusAnswers: boolean }): Promise<Warm> {
    const { config, logger } = this.options;
    const browser = await BrowserSource.launch({
      logger,
      build: config.chromiumBuild,
      ...(config.chromiumPath === undefined ? {} : { executablePath: config.chromiumPath }),
      ...(config.chromiumNetns === undefined ? {} : { netns: config.chromiumNetns }),
      ...browserIsolationOf(config),
    });
    this.browser = browser;
    browser.onCrash((reason) => {
      const session = this.options.call();
      logger.error({ reason, inCall: session !== undefined }, 'browser crashed');
      if (session !== undefined) session.browserCrashed(reason);
      else this.broken = `browser crashed: ${reason}`;
    });
    const site = await PageSite.load(config.botPageDir ?? botPageDir());
    const page = await browser.newPage(site);
    const bridge = await PageBridge.attach(page, { logger, commandTimeoutMs: config.pageTimeoutMs });
    this.bridge = bridge;
    await browser.load(page);
    await bridge.waitReady();
    const warm: Warm = { browser, site, page, bridge, janusNode: '', janusOpen: false };
    await this.openJanus(warm);
    for (let attempt = 0; !warm.janusOpen && options.untilJanusAnswers && !this.options.stopping(); attempt++) {
      const waitMs = Math.min(10_000, 1_000 * 2 ** attempt);
      logger.error({ janusUrls: config.janusUrls, retryInMs: waitMs }, 'no Janus node answers: trying again');
      await sleep(waitMs);
      await this.openJanus(warm);
    }
    if (!warm.janusOpen && !this.options.stopping()) throw new RoomlineError('JANUS_UNAVAILABLE', 'no configured Janus node answered');
    // while idle: a lost Janus session is reopened before the next claim; a page that stops answering ends the worker
    bridge.on('janus-lost', (event) => {
      // the call's own session handles a loss during the call; after it the worker leaves anyway
      if (this.options.call() !== undefined || this.options.tornDown()) return;
      warm.janusOpen = false;
      logger.warn({ janusNode: warm.janusNode, reason: event.reason }, 'Janus session lost while idle');
    });
    bridge.onUnresponsive((reason) => {
      if (this.options.call() === undefined) this.broken = `bot page unresponsive: ${reason}`;
    });
    return warm;
  }

  /**
   * Opens the page's Janus session on the first configured node that answers: this worker's own order (a hash of its
   * id spreads workers over the nodes), except that a node just lost is tried last.
   */
  async openJanus(warm: Warm): Promise<void> {
    const { config, logger } = this.options;
    const order = orderJanusNodes(config.janusUrls, config.workerId);
    const lost = warm.janusNode;
    const nodes = lost === '' ? order : [...order.filter((url) => url !== lost), ...order.filter((url) => url === lost)];
    for (const url of nodes) {
      try {
        const info = await warm.bridge.send(
          {
            type: 'init',
            janusUrl: url,
            iceServers: [...config.iceServers],
            encodedForwarding: config.encodedForwarding,
            ...(config.janusApiSecret === undefined ? {} : { apiSecret: config.janusApiSecret }),
            ...(config.sipOutboundProxy === undefined ? {} : { sipOutboundProxy: config.sipOutboundProxy }),
            ...(config.extraBrowserOrigins.length === 0 ? {} : { allowOrigins: [...config.extraBrowserOrigins] }),
          },
          JANUS_INIT_TIMEOUT_MS,
        );
        warm.janusNode = url;
        warm.janusOpen = true;
        logger.info({ janusNode: url, server: info.janusServer, reopened: lost !== '' }, 'Janus session open');
        if (lost !== '') await this.options.reopened();
        return;
      } catch (error) {
        logger.warn({ janusNode: url, error: String(error) }, 'Janus node unavailable, trying the next');
      }
    }
  }

  /**
   * Whether this warm worker can place a call now, checked after a message arrived and before it is claimed: the page
   * answers, and its Janus session answers a keepalive; a session that is gone or silent is reopened (on another node
   * first). The page's heartbeats say how long ago its session was heard from: heard within a keepalive period, it is
   * known healthy without a round trip; otherwise the page is asked (the trace's `worker.janus-check`). False: the
   * message goes back to the queue at once for another worker.
   */
  async readyToClaim(warm: Warm, setup?: SetupRecorder): Promise<boolean> {
    if (this.broken !== undefined) return false;
    if (warm.janusOpen) {
      const silentMs = warm.bridge.janusSilentMs;
      if (silentMs !== undefined && silentMs <= JANUS_KNOWN_FRESH_MS) return true;
      const start = preciseNow();
      try {
        const health = await warm.bridge.send(
          { type: 'health', timeoutMs: HEALTH_TIMEOUT_MS },
          HEALTH_TIMEOUT_MS + PAGE_HEALTH_GRACE_MS,
        );
        setup?.span('worker.janus-check', start, preciseNow(), { detail: health.janus });
        if (health.janus === 'open') return true;
        warm.janusOpen = false;
        this.options.logger.warn({ janusNode: warm.janusNode, janus: health.janus }, 'Janus session unusable at claim: reopening it');
      } catch (error) {
        this.broken = `the bot page did not answer its health check: ${String(error)}`;
        return false;
      }
    }
    await this.openJanus(warm);
    return warm.janusOpen;
  }

  /** Leaves the room, closes the page and Chromium: whatever the warm-up started. */
  async close(): Promise<void> {
    if (this.bridge !== undefined) {
      await this.bridge.send({ type: 'leave' }, 3_000).catch(() => undefined);
      this.bridge.stop();
    }
    if (this.browser !== undefined) await this.browser.close();
  }
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
