import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { launch, type Browser, type HTTPRequest, type Page } from 'puppeteer-core';
import { RoomlineError, assertNever } from '../contracts/errors.js';
import type { ChromiumBuild } from './chromium-builds.js';
import type { Logger } from './logger.js';

/**
 * Chromium, and only Chromium: finds the executable, launches it headless with the flags a media bot needs, serves
 * built pages to it, and tears it down. Pages are served from memory through request interception at
 * `http://localhost/`: a secure context (getUserMedia, WebCodecs, AudioWorklet need one) with no HTTP server and no
 * network path between the worker and the browser, so it works the same when Chromium runs in another network
 * namespace (the lab) or on Fargate. Every other HTTP request is refused unless its origin was allowed for the page
 * (the origins a room provider declares, e.g. an SDK that fetches over HTTPS).
 */
export const PAGE_ORIGIN = 'http://localhost';

/** Flags seen to work headless as root for a WebRTC bot (LAB.md), plus what a bot without a camera needs. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
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
  // fewer processes for one page in one tab: GPU, audio and network services in the browser process, no zygote,
  // no spare renderer (each costs 10-30 MB PSS and IPC per audio buffer)
  '--in-process-gpu',
  '--no-zygote',
  '--enable-features=NetworkServiceInProcess2',
  // the bot never calls getUserMedia: without WebRtcHideLocalIpsWithMdns off Chromium would hide its host
  // candidates behind mDNS names, which Janus cannot resolve
  '--disable-features=WebRtcHideLocalIpsWithMdns,AudioServiceOutOfProcess,SpareRendererForSitePerProcess,Translate,MediaRouter,OptimizationHints',
];

/** Built pages (a folder of .html, .js and .map files), read once and served from memory. */
export class PageSite {
  private constructor(private readonly files: ReadonlyMap<string, Buffer>) {}

  static async load(dir: string): Promise<PageSite> {
    const files = new Map<string, Buffer>();
    const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && extname(entry.name) in CONTENT_TYPES)
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'));
    await Promise.all(names.map(async (name) => files.set(name, await readFile(join(dir, name)))));
    return new PageSite(files);
  }

  /** The text of the file at `path`. */
  text(path: string): string {
    const body = this.files.get(path);
    if (body === undefined) throw new RoomlineError('INTERNAL', `the built pages have no ${path}`);
    return body.toString('utf8');
  }

  /** The file at `path` (relative to the site's root), with its content type. */
  get(path: string): { body: Buffer; contentType: string } | undefined {
    const body = this.files.get(path);
    return body === undefined ? undefined : { body, contentType: CONTENT_TYPES[extname(path)] ?? 'text/plain' };
  }
}

export interface BrowserSourceOptions {
  /** Which Chromium build to launch. @default "system" */
  readonly build?: ChromiumBuild;
  /** Chromium executable of the `system` build. @default /usr/bin/chromium, else /usr/bin/chromium-browser */
  readonly executablePath?: string;
  /** Network namespace to run Chromium in (the lab; needs root). @default none */
  readonly netns?: string;
  /** Extra command-line flags (e.g. fake capture files). @default [] */
  readonly extraArgs?: readonly string[];
  readonly logger: Logger;
}

export class BrowserSource {
  private closing: Promise<void> | undefined;
  private crashListeners: ((reason: string) => void)[] = [];
  private reusedFirstTab = false;
  private readonly allowed = new WeakMap<Page, Set<string>>();

  private constructor(
    readonly browser: Browser,
    private readonly tempDir: string,
    private readonly logger: Logger,
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
    const tempDir = await mkdtemp(join(tmpdir(), 'roomline-chromium-'));
    let executablePath = chromium.path;
    if (options.netns !== undefined) {
      executablePath = join(tempDir, 'chromium-in-netns.sh');
      await writeFile(executablePath, `#!/bin/sh\nexec ip netns exec '${options.netns}' '${chromium.path}' "$@"\n`);
      await chmod(executablePath, 0o755);
    }
    try {
      const browser = await launch({
        executablePath,
        headless: chromium.headless,
        pipe: true,
        userDataDir: join(tempDir, 'profile'),
        args: [...chromium.args, ...CHROMIUM_FLAGS, ...(options.extraArgs ?? [])],
        defaultViewport: { width: 640, height: 480 },
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        protocolTimeout: 30_000,
      });
      const source = new BrowserSource(browser, tempDir, options.logger);
      await grantNetworkAccess(browser, PAGE_ORIGIN);
      options.logger.info(
        { chromium: chromium.path, version: await browser.version(), launchMs: Date.now() - started },
        'Chromium launched',
      );
      return source;
    } catch (error) {
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
    page.on('request', (request) => void serve(request, site, allowed, onRefused));
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

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

async function serve(
  request: HTTPRequest,
  site: PageSite,
  allowed: ReadonlySet<string>,
  onRefused: (origin: string) => void,
): Promise<void> {
  const url = new URL(request.url());
  if (url.origin !== PAGE_ORIGIN) {
    if (allowed.has(url.origin)) {
      await request.continue().catch(() => undefined);
      return;
    }
    onRefused(url.origin);
    await request.abort('blockedbyclient').catch(() => undefined);
    return;
  }
  const file = site.get(decodeURIComponent(url.pathname).replace(/^\/+/, ''));
  if (file === undefined) {
    await request.respond({ status: 404, body: 'not found' }).catch(() => undefined);
    return;
  }
  await request
    .respond({ status: 200, body: file.body, headers: { 'content-type': file.contentType } })
    .catch(() => undefined);
}

interface ResolvedChromium {
  readonly path: string;
  readonly args: readonly string[];
  readonly headless: true | 'shell';
}

async function resolveChromium(build: ChromiumBuild, explicit: string | undefined): Promise<ResolvedChromium> {
  switch (build) {
    case 'system':
      return systemChromium(explicit);
    case 'sparticuz':
      if (explicit !== undefined) {
        throw new RoomlineError('BROWSER_FAILED', 'ROOMLINE_CHROMIUM_PATH names a system build: unset it to run @sparticuz/chromium');
      }
      return sparticuzChromium();
    default:
      return assertNever(build, 'Chromium build');
  }
}

function systemChromium(explicit: string | undefined): ResolvedChromium {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new RoomlineError('BROWSER_FAILED', `ROOMLINE_CHROMIUM_PATH ${explicit} does not exist`);
    return { path: explicit, args: [], headless: true };
  }
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return { path: candidate, args: [], headless: true };
  }
  throw new RoomlineError(
    'BROWSER_FAILED',
    'no system Chromium found: install it (Debian/Ubuntu: apt-get install chromium), set ROOMLINE_CHROMIUM_PATH, or ' +
      'run the packaged build with ROOMLINE_CHROMIUM=sparticuz',
  );
}

async function sparticuzChromium(): Promise<ResolvedChromium> {
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    const path = await sparticuz.executablePath();
    // a bot must keep web security: drop the flags that relax it
    const args = sparticuz.args.filter((a) => a !== '--disable-web-security' && a !== '--allow-running-insecure-content');
    return { path, args, headless: 'shell' };
  } catch (error) {
    throw new RoomlineError('BROWSER_FAILED', `@sparticuz/chromium could not be unpacked: ${String(error)}`);
  }
}
