import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { RoomlineError } from '../contracts/errors.js';
import { BrowserHome, browserEnvironment, resolveUser, setprivArgs, type BrowserIsolation } from './browser-isolation.js';
import { resolveChromium, type ChromiumBuild } from './chromium-builds.js';
import type { EgressProxy } from './egress-proxy.js';
import { EgressRoute, type BrowserEgress } from './egress-route.js';
import type { Logger } from './logger.js';
import { PAGE_ORIGIN, servePageRequest, type PageSite } from './page-site.js';

/** Flags of a headless WebRTC bot (LAB.md), plus what a bot without a camera needs. */
const CHROMIUM_FLAGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-dev-shm-usage',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // keep rendering and timers at full rate although no one looks at the page
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  // fewer processes for one page in one tab: GPU, audio and network services in the browser process, no spare
  // renderer (each costs 10-30 MB PSS and IPC per audio buffer); the zygote stays unless the sandbox is off (it is
  // what starts sandboxed processes)
  '--in-process-gpu',
  '--enable-features=NetworkServiceInProcess2',
  // the bot never calls getUserMedia: without WebRtcHideLocalIpsWithMdns off Chromium would hide its host
  // candidates behind mDNS names, which Janus cannot resolve
  // (AutofillServerCommunication: a page-mode join step that fills a form would otherwise ask Google about the form)
  '--disable-features=WebRtcHideLocalIpsWithMdns,AudioServiceOutOfProcess,SpareRendererForSitePerProcess,Translate,MediaRouter,OptimizationHints,AutofillServerCommunication',
];
/** Only with the sandbox off: the zygote exists to start sandboxed processes. */
const NO_SANDBOX_FLAGS = ['--no-sandbox', '--no-zygote'];

export interface BrowserSourceOptions {
  /** Which Chromium build to launch. @default "system" */
  readonly build?: ChromiumBuild;
  /** Chromium executable of the `system` build. @default /usr/bin/chromium, else /usr/bin/chromium-browser */
  readonly executablePath?: string;
  /** Network namespace to run Chromium in (the lab; needs root). @default none */
  readonly netns?: string;
  /** Extra command-line flags (e.g. fake capture files). @default [] */
  readonly extraArgs?: readonly string[];
  /** Sandbox and user. @default the sandbox on, the worker's user */
  readonly isolation?: BrowserIsolation;
  /** Send every connection through an egress proxy that allows only what {@link BrowserSource.allowOrigins} allows. @default none */
  readonly egress?: BrowserEgress;
  readonly logger: Logger;
}

/**
 * Chromium, and only Chromium: finds the executable, launches it headless with the flags a media bot needs, serves
 * built pages to it, and tears it down. Pages are served from memory through request interception at
 * `http://localhost/` (worker/page-site.ts): a secure context (getUserMedia, WebCodecs, AudioWorklet need one) with
 * no HTTP server and no network path between the worker and the browser, so it works the same when Chromium runs in
 * another network namespace (the lab) or on Fargate. Every other HTTP request is refused unless its origin was allowed
 * for the page (the origins a room provider declares, e.g. an SDK that fetches over HTTPS).
 */
export class BrowserSource {
  private closing: Promise<void> | undefined;
  private crashListeners: ((reason: string) => void)[] = [];
  private reusedFirstTab = false;
  private readonly allowed = new WeakMap<Page, Set<string>>();

  private constructor(
    readonly browser: Browser,
    private readonly tempDir: string,
    private readonly logger: Logger,
    private readonly egress: EgressRoute | undefined,
    private readonly home: BrowserHome,
  ) {
    browser.once('disconnected', () => {
      if (this.closing !== undefined) return;
      logger.error('Chromium disconnected');
      for (const listener of this.crashListeners) listener('Chromium disconnected');
    });
  }

  static async launch(options: BrowserSourceOptions): Promise<BrowserSource> {
    const started = Date.now();
    const chromium = await resolveChromium(options.build ?? 'system', options.executablePath);
    const sandbox = options.isolation?.sandbox ?? true;
    const user = options.isolation?.user === undefined ? undefined : resolveUser(options.isolation.user);
    if (sandbox && chromium.headless === 'shell') {
      throw new RoomlineError(
        'BROWSER_FAILED',
        '@sparticuz/chromium runs single-process without a sandbox: run the system build (ROOMLINE_CHROMIUM=system), or set ROOMLINE_CHROMIUM_SANDBOX=off',
      );
    }
    if (sandbox && user === undefined && process.getuid?.() === 0) {
      throw new RoomlineError('BROWSER_FAILED', "Chromium's sandbox does not run as root: set ROOMLINE_CHROMIUM_USER to an unprivileged user");
    }
    const tempDir = await mkdtemp(join(tmpdir(), 'roomline-chromium-'));
    const asUser = user === undefined ? undefined : [options.isolation?.setpriv ?? '/usr/bin/setpriv', ...setprivArgs(user)];
    let egress: EgressRoute | undefined;
    let home: BrowserHome | undefined;
    try {
      // the browser's home (profile, temporary files) belongs to the browser's user, made by that user: a worker that
      // is not root could not give it away
      home = await BrowserHome.create(tempDir, asUser);
      egress = options.egress === undefined ? undefined : await EgressRoute.start(options.egress, tempDir, options.netns, options.logger);
      const launcher = [...(options.netns === undefined ? [] : ['ip', 'netns', 'exec', options.netns]), ...(asUser ?? [])];
      let executablePath = chromium.path;
      if (launcher.length > 0) {
        executablePath = join(tempDir, 'chromium.sh');
        // the shell sets PWD in what it passes on: env takes it out again, so the browser gets exactly browserEnvironment()
        await writeFile(executablePath, `#!/bin/sh\nexec /usr/bin/env -u PWD ${[...launcher, chromium.path].map(shellQuote).join(' ')} "$@"\n`, { mode: 0o755 });
      }
      const browser = await launch({
        executablePath,
        headless: chromium.headless,
        pipe: true,
        userDataDir: join(home.path, 'profile'),
        args: [
          ...chromium.args,
          ...CHROMIUM_FLAGS,
          ...(sandbox ? [] : NO_SANDBOX_FLAGS),
          ...(egress === undefined ? [] : [`--proxy-server=http://127.0.0.1:${egress.port}`, '--proxy-bypass-list=<-loopback>']),
          ...(options.extraArgs ?? []),
        ],
        env: browserEnvironment(home.path),
        defaultViewport: { width: 640, height: 480 },
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        protocolTimeout: 30_000,
      });
      const source = new BrowserSource(browser, tempDir, options.logger, egress, home);
      await grantNetworkAccess(browser, PAGE_ORIGIN);
      options.logger.info(
        {
          chromium: chromium.path,
          version: await browser.version(),
          launchMs: Date.now() - started,
          sandbox,
          user: user === undefined ? 'the worker\'s' : `${user.uid}:${user.gid}`,
          egressProxy: egress !== undefined,
        },
        'Chromium launched',
      );
      return source;
    } catch (error) {
      await egress?.close();
      await home?.remove();
      await rm(tempDir, { recursive: true, force: true });
      throw new RoomlineError('BROWSER_FAILED', `Chromium did not start (${chromium.path}): ${String(error)}`);
    }
  }

  /** Called once if Chromium goes away without being closed. */
  onCrash(listener: (reason: string) => void): void {
    this.crashListeners.push(listener);
  }

  /**
   * A tab that serves `site` at PAGE_ORIGIN and refuses every other HTTP request but those to origins allowed with
   * {@link allowOrigins}. The first call takes the tab Chromium opened at launch (a tab more would be a renderer
   * process more).
   */
  async newPage(site: PageSite): Promise<Page> {
    const blank = this.reusedFirstTab ? undefined : (await this.browser.pages()).find((p) => p.url() === 'about:blank');
    this.reusedFirstTab = true;
    const page = blank ?? (await this.browser.newPage());
    const allowed = new Set<string>();
    this.allowed.set(page, allowed);
    // each refused origin is logged once (the origin only: a URL may carry a token)
    const refused = new Set<string>();
    const onRefused = (origin: string) => {
      if (refused.has(origin)) return;
      refused.add(origin);
      this.logger.warn({ origin }, 'the page asked for an origin its room does not declare: refused');
    };
    await page.setRequestInterception(true);
    page.on('request', (request) => void servePageRequest(request, site, allowed, onRefused));
    page.on('pageerror', (error) => this.logger.warn({ error: String(error) }, 'page error'));
    return page;
  }

  /**
   * Lets `page` make HTTP(S) requests to these origins (`https://host[:port]`) from now on, besides its own; replaces
   * what was allowed before. A room provider's SDK that loads code or calls an API over HTTPS needs this.
   */
  allowOrigins(page: Page, origins: readonly string[]): void {
    const allowed = this.allowed.get(page);
    if (allowed === undefined) throw new RoomlineError('INTERNAL', 'allowOrigins on a page this browser source did not open');
    allowed.clear();
    for (const origin of origins) allowed.add(new URL(origin).origin);
    // the same origins, for every connection (WebSockets included) through the egress proxy
    this.egress?.proxy.allowCallOrigins(origins);
  }

  /** The egress proxy, when the browser has one. */
  get egressProxy(): EgressProxy | undefined {
    return this.egress?.proxy;
  }

  /**
   * What a customer's web app needs in page mode, for each of its origins (its page's and its frames'): reaching
   * servers on private addresses, as the bot's own origin may (the SIP leg's Janus node sits on one), and the
   * microphone and camera permission. The app's devices are the bridge's anyway; the permission is what makes
   * Chromium gather the host's real ICE candidates for a frame's connections (without it a page gets only wildcard
   * candidates, and two connections inside the browser, e.g. a frame relaying to the top frame, never meet).
   */
  async grantAppPermissions(origins: readonly string[]): Promise<void> {
    for (const origin of new Set(origins.map((o) => new URL(o).origin))) {
      await grantNetworkAccess(this.browser, origin, ['audioCapture', 'videoCapture']);
    }
  }

  /** Navigates `page` to one of its site's pages and waits for it to load. */
  async load(page: Page, path = 'index.html'): Promise<void> {
    await page.goto(`${PAGE_ORIGIN}/${path}`, { waitUntil: 'load', timeout: 15_000 });
  }

  /** The browser's process id (its main process), for resource measurements. */
  get pid(): number | undefined {
    return this.browser.process()?.pid;
  }

  /** Closes Chromium and removes its profile. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const proc = this.browser.process();
      await Promise.race([
        this.browser.close().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 3_000)),
      ]);
      if (proc !== null && proc.exitCode === null) proc.kill('SIGKILL');
      await this.egress?.close();
      await this.home.remove();
      await rm(this.tempDir, { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.closing;
  }
}

/**
 * The page is served from memory, so Chromium cannot place it in an address space and treats it as public; its
 * WebSocket to a Janus server on a private or loopback address would then be blocked by Local Network Access checks
 * (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS). The bot's own origin is granted that access. One grant
 * replaces the previous one and fails whole on a name the Chromium does not know, so the sets are tried from the
 * newest Chromium's to older ones'.
 */
const NETWORK_PERMISSION_SETS = [
  ['localNetworkAccess', 'localNetwork', 'loopbackNetwork'],
  ['localNetworkAccess', 'localNetwork'],
  ['localNetworkAccess'],
] as const;

async function grantNetworkAccess(browser: Browser, origin: string, extra: readonly string[] = []): Promise<void> {
  // the grant lives as long as the DevTools session that made it: this one stays open with the browser
  const session = await browser.target().createCDPSession();
  for (const permissions of NETWORK_PERMISSION_SETS) {
    const granted = await session
      .send('Browser.grantPermissions', { origin, permissions: [...extra, ...permissions] as unknown as 'geolocation'[] })
      .then(() => true)
      .catch(() => false);
    if (granted) return;
  }
}

/** A word for the launcher script, quoted for sh(1) when it is more than plain characters. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
