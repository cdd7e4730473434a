import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { launch, type Browser, type HTTPRequest, type Page } from 'puppeteer-core';
import { RoomlineError } from '../contracts/errors.js';
import type { Logger } from './logger.js';
import { botPageDir } from './paths.js';

/**
 * Chromium, and only Chromium: finds the executable, launches it headless with the flags a media bot needs, serves
 * the built bot page to it, and tears it down. The page is served from memory through request interception at
 * `http://localhost/`: a secure context (getUserMedia, WebCodecs, AudioWorklet need one) with no HTTP server and no
 * network path between the worker and the browser, so it works the same when Chromium runs in another network
 * namespace (the lab) or on Fargate.
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

export type PageName = 'bot' | 'lab-person' | 'lab-direct';

export interface BrowserSourceOptions {
  /** Chromium executable. @default /usr/bin/chromium, else @sparticuz/chromium if installed */
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
    const chromium = await resolveChromium(options.executablePath);
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
      await grantNetworkAccess(browser);
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
   * A tab that serves the built pages at PAGE_ORIGIN and refuses every other request. The first call takes the tab
   * Chromium opened at launch (a tab more would be a renderer process more).
   */
  async newPage(): Promise<Page> {
    const blank = this.reusedFirstTab ? undefined : (await this.browser.pages()).find((p) => p.url() === 'about:blank');
    this.reusedFirstTab = true;
    const page = blank ?? (await this.browser.newPage());
    const dir = botPageDir();
    await page.setRequestInterception(true);
    page.on('request', (request) => void serve(request, dir));
    page.on('pageerror', (error) => this.logger.warn({ error: String(error) }, 'page error'));
    return page;
  }

  /** Navigates `page` to one of the built pages and waits for it to load. */
  async load(page: Page, name: PageName): Promise<void> {
    await page.goto(`${PAGE_ORIGIN}/${name === 'bot' ? 'index.html' : `${name}.html`}`, {
      waitUntil: 'load',
      timeout: 15_000,
    });
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

async function grantNetworkAccess(browser: Browser): Promise<void> {
  // the grant lives as long as the DevTools session that made it: this one stays open with the browser
  const session = await browser.target().createCDPSession();
  for (const permissions of NETWORK_PERMISSION_SETS) {
    const granted = await session
      .send('Browser.grantPermissions', { origin: PAGE_ORIGIN, permissions: [...permissions] as unknown as 'geolocation'[] })
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

async function serve(request: HTTPRequest, dir: string): Promise<void> {
  const url = new URL(request.url());
  if (url.origin !== PAGE_ORIGIN) {
    await request.abort('blockedbyclient').catch(() => undefined);
    return;
  }
  const path = normalize(url.pathname).replace(/^\/+/, '');
  const file = join(dir, path);
  if (path.includes('..') || !existsSync(file) || !(extname(file) in CONTENT_TYPES)) {
    await request.respond({ status: 404, body: 'not found' }).catch(() => undefined);
    return;
  }
  const body = await readFile(file);
  await request
    .respond({ status: 200, body, headers: { 'content-type': CONTENT_TYPES[extname(file)] ?? 'text/plain' } })
    .catch(() => undefined);
}

interface ResolvedChromium {
  readonly path: string;
  readonly args: readonly string[];
  readonly headless: true | 'shell';
}

async function resolveChromium(explicit: string | undefined): Promise<ResolvedChromium> {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new RoomlineError('BROWSER_FAILED', `ROOMLINE_CHROMIUM_PATH ${explicit} does not exist`);
    return { path: explicit, args: [], headless: true };
  }
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return { path: candidate, args: [], headless: true };
  }
  try {
    const moduleName = '@sparticuz/chromium';
    const sparticuz = (await import(moduleName)) as {
      default: { executablePath(): Promise<string>; args: string[] };
    };
    const path = await sparticuz.default.executablePath();
    // a bot must keep web security: drop the flags that relax it
    const args = sparticuz.default.args.filter(
      (a) => a !== '--disable-web-security' && a !== '--allow-running-insecure-content',
    );
    return { path, args, headless: 'shell' };
  } catch {
    throw new RoomlineError(
      'BROWSER_FAILED',
      'no Chromium found: install it (Debian/Ubuntu: apt-get install chromium) or set ROOMLINE_CHROMIUM_PATH',
    );
  }
}
