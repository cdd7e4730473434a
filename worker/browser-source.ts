import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { launch, type Browser, type HTTPRequest, type Page } from 'puppeteer-core';
import type { HostAllowList } from '../contracts/egress-policy.js';
import { RoomlineError, assertNever } from '../contracts/errors.js';
import type { ChromiumBuild } from './chromium-builds.js';
import { EgressProxy } from './egress-proxy.js';
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

/**
 * The whole environment Chromium gets: nothing of the worker's (no AWS credentials or credential endpoints, no
 * ROOMLINE_* configuration, no secrets), only what a browser needs to find its files.
 */
export const BROWSER_ENVIRONMENT_KEYS = ['HOME', 'PATH', 'LANG', 'TMPDIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'] as const;

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

/** How Chromium is kept apart from the worker (worker/config.ts: ROOMLINE_CHROMIUM_SANDBOX, _USER, _SETPRIV). */
export interface BrowserIsolation {
  /** Chromium's own sandbox; `false` passes --no-sandbox (an explicit opt-out). @default true */
  readonly sandbox?: boolean;
  /** The unprivileged user Chromium runs as: a name, or uid:gid. @default none: the worker's user (refused for root) */
  readonly user?: string | undefined;
  /** The setpriv(1) that switches to `user` (needs root, or CAP_SETUID and CAP_SETGID). @default "/usr/bin/setpriv" */
  readonly setpriv?: string;
}

/** The egress proxy every connection of the browser goes through (worker/egress-proxy.ts). */
export interface BrowserEgress {
  /** The room allow-list, applied to the addresses of room origins. */
  readonly rooms: HostAllowList;
  /** Origins allowed for the browser's whole life (the Janus nodes). */
  readonly fixedOrigins: readonly string[];
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
  /** Sandbox and user. @default the sandbox on, the worker's user */
  readonly isolation?: BrowserIsolation;
  /** Send every connection through an egress proxy that allows only what {@link BrowserSource.allowOrigins} allows. @default none */
  readonly egress?: BrowserEgress;
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

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  // the dial-in PIN line's prompts
  '.wav': 'audio/wav',
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

/**
 * Debian's `/usr/bin/chromium` is a shell script that sources /etc/chromium.d, which exports API keys and flags into
 * the browser's environment: the browser binary beside it is started instead, with exactly the environment given.
 */
const DEBIAN_LAUNCHERS: Readonly<Record<string, string>> = { '/usr/bin/chromium': '/usr/lib/chromium/chromium' };

function binaryOf(path: string): string {
  const binary = DEBIAN_LAUNCHERS[path];
  return binary !== undefined && existsSync(binary) ? binary : path;
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
    return { path: binaryOf(explicit), args: [], headless: true };
  }
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return { path: binaryOf(candidate), args: [], headless: true };
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

/** The environment of the browser's processes: its own folders, a plain PATH, nothing of the worker's. */
export function browserEnvironment(home: string): Record<(typeof BROWSER_ENVIRONMENT_KEYS)[number], string> {
  return {
    HOME: home,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TMPDIR: join(home, 'tmp'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
}

/** setpriv(1) options that switch to `user` with no supplementary groups and no capabilities to pass on. */
function setprivArgs(user: { uid: number; gid: number }): string[] {
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--'];
}

/**
 * The browser's home: HOME, TMPDIR and the profile. With a user of its own, made and removed as that user (through
 * the same setpriv that starts the browser) in the system's temporary folder, mode 0700; otherwise inside the worker's
 * temporary folder.
 */
class BrowserHome {
  private removed: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly asUser: readonly string[] | undefined,
  ) {}

  static async create(workerDir: string, asUser: readonly string[] | undefined): Promise<BrowserHome> {
    if (asUser === undefined) {
      const path = join(workerDir, 'home');
      for (const dir of [path, join(path, 'tmp'), join(path, 'profile')]) await mkdir(dir, { mode: 0o700 });
      return new BrowserHome(path, undefined);
    }
    const [command, ...args] = asUser;
    const made = await run(command!, [...args, 'mktemp', '-d', join(tmpdir(), 'roomline-browser-XXXXXXXX')]);
    const path = made.trim();
    await run(command!, [...args, 'mkdir', '-m', '0700', join(path, 'tmp'), join(path, 'profile')]);
    return new BrowserHome(path, asUser);
  }

  /** Removes the home (as its user, when it has one). Idempotent. */
  remove(): Promise<void> {
    this.removed ??= (async () => {
      if (this.asUser === undefined) return;
      const [command, ...args] = this.asUser;
      await run(command!, [...args, 'rm', '-rf', '--', this.path]).catch(() => undefined);
    })();
    return this.removed;
  }
}

/** Runs a command with a minimal environment; resolves with its output, rejects with its error output. */
function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, timeout: 10_000 }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`)),
    );
  });
}

/** A user name (looked up in /etc/passwd) or uid:gid, as numbers. */
function resolveUser(spec: string): { uid: number; gid: number } {
  const numeric = /^(\d+):(\d+)$/.exec(spec);
  if (numeric !== null) return { uid: Number(numeric[1]), gid: Number(numeric[2]) };
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === spec);
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new RoomlineError('BROWSER_FAILED', `no user named ${spec} (ROOMLINE_CHROMIUM_USER)`);
  if (Number(uid) === 0) throw new RoomlineError('BROWSER_FAILED', `ROOMLINE_CHROMIUM_USER ${spec} is root`);
  return { uid: Number(uid), gid: Number(gid) };
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Where the browser reaches the egress proxy, and where the proxy's connections start. Without a namespace, the proxy
 * listens on 127.0.0.1 and connects from the worker. With one (the lab), neither 127.0.0.1 nor the routes there are
 * the worker's: a helper inside the namespace listens on its 127.0.0.1 and pipes each connection to the proxy's Unix
 * socket (file sockets are not namespaced), and makes the proxy's upstream connections from inside, where the
 * addresses the proxy allowed exist. The helper decides nothing; its dial socket is root's alone.
 */
class EgressRoute {
  private constructor(
    readonly proxy: EgressProxy,
    readonly port: number,
    private readonly helper: ChildProcess | undefined,
  ) {}

  static async start(egress: BrowserEgress, dir: string, netns: string | undefined, logger: Logger): Promise<EgressRoute> {
    if (netns === undefined) {
      const proxy = await EgressProxy.start({ ...egress, listen: { port: 0 }, logger });
      return new EgressRoute(proxy, proxy.port, undefined);
    }
    const proxySocket = join(dir, 'egress.sock');
    const dialSocket = join(dir, 'egress-dial.sock');
    // names are resolved inside the namespace too, where the browser's own resolution would happen
    const proxy = await EgressProxy.start({
      ...egress,
      listen: { path: proxySocket },
      logger,
      dial: (host, port) => dialThrough(dialSocket, host, port),
      lookup: (host) => resolveThrough(dialSocket, host),
    });
    const helper = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', NAMESPACE_HELPER_SOURCE, proxySocket, dialSocket], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    const port = await new Promise<number>((resolve, reject) => {
      let front: number | undefined;
      let dialing = false;
      const lines = createInterface({ input: helper.stdout! });
      lines.on('line', (line) => {
        if (line === 'dial') dialing = true;
        else front = Number(line);
        if (dialing && front !== undefined) resolve(front);
      });
      helper.once('exit', (code) => reject(new Error(`the egress helper exited (${code})`)));
    }).catch(async (error: unknown) => {
      await proxy.close();
      throw error;
    });
    return new EgressRoute(proxy, port, helper);
  }

  async close(): Promise<void> {
    this.helper?.stdin?.end();
    this.helper?.kill('SIGTERM');
    await this.proxy.close();
  }
}

/** Asks the namespace helper for the addresses of `host` there; none when it does not resolve. */
function resolveThrough(socketPath: string, host: string): Promise<readonly string[]> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => resolve([]));
    socket.on('close', () => {
      try {
        const addresses = JSON.parse(answer) as unknown;
        resolve(Array.isArray(addresses) ? addresses.filter((a): a is string => typeof a === 'string') : []);
      } catch {
        resolve([]);
      }
    });
    socket.write(`R ${host}\n`);
  });
}

/** Asks the namespace helper for a connection to host:port; resolves once it is up. */
function dialThrough(socketPath: string, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (!answer.includes('\n')) return;
      socket.off('data', onData);
      if (answer.startsWith('OK\n')) {
        socket.pause();
        const rest = answer.slice(3);
        if (rest.length > 0) socket.unshift(Buffer.from(rest, 'latin1'));
        resolve(socket);
      } else {
        socket.destroy();
        reject(new Error(`cannot connect to ${host}:${port}`));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`cannot connect to ${host}:${port}`)));
    socket.write(`C ${host} ${port}\n`);
  });
}

/**
 * The helper inside a namespace: 127.0.0.1:<any port> there → the proxy's Unix socket (prints the port), and a Unix
 * socket on which the proxy asks "C <host> <port>\n" and gets "OK\n" and the connection, made from inside, or
 * "R <host>\n" and gets the addresses the name resolves to there, as JSON.
 */
const NAMESPACE_HELPER_SOURCE = `
const net = require('node:net');
const fs = require('node:fs');
const [proxySocket, dialSocket] = process.argv.slice(1);
const pipeBoth = (a, b) => { a.pipe(b).pipe(a); a.on('error', () => b.destroy()); b.on('error', () => a.destroy()); a.on('close', () => b.destroy()); b.on('close', () => a.destroy()); };
const front = net.createServer((c) => pipeBoth(c, net.connect(proxySocket)))
  .listen(0, '127.0.0.1', () => process.stdout.write(front.address().port + '\\n'));
try { fs.unlinkSync(dialSocket); } catch {}
const old = process.umask(0o077);
net.createServer((c) => {
  let head = '';
  const onData = (chunk) => {
    head += chunk.toString('latin1');
    const nl = head.indexOf('\\n');
    if (nl < 0) { if (head.length > 300) c.destroy(); return; }
    c.off('data', onData);
    c.pause();
    const [verb, host, port] = head.slice(0, nl).split(' ');
    if (verb === 'R') {
      require('node:dns').lookup(host, { all: true, verbatim: true }, (error, addresses) =>
        c.end(JSON.stringify(error ? [] : addresses.map((a) => a.address))));
      return;
    }
    const t = net.connect(Number(port), host);
    t.once('connect', () => { c.write('OK\\n'); c.resume(); pipeBoth(c, t); });
    t.once('error', () => c.destroy());
  };
  c.on('data', onData);
  c.on('error', () => c.destroy());
}).listen(dialSocket, () => { process.umask(old); process.stdout.write('dial\\n'); });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;
