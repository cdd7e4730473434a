import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../lab/lab.js';
import { LAB_BROWSER_USER } from '../../lab/netns.js';
import { labSite } from '../../lab/room-person.js';
import { BROWSER_ENVIRONMENT_KEYS } from '../../worker/browser-isolation.js';
import { BrowserSource } from '../../worker/browser-source.js';
import { PageSite } from '../../worker/page-site.js';
import { loadWorkerConfig } from '../../worker/config.js';
import { createLogger } from '../../worker/logger.js';
import { botPageDir } from '../../worker/paths.js';
import { browserIsolationOf } from '../../worker/worker-browser.js';
import { PHONE_CTRL_PORT } from '../../lab/sip-phone.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * What isolates the bot, checked on the running processes of a real warm worker of the lab (which runs as root, like
 * a careless deployment would): Chromium's user, its renderers' seccomp filter and namespaces, the environment of every
 * browser process, whether the browser's user can read the worker's environment; and, from a bot page of a browser
 * launched exactly as a worker launches it, what the page can and cannot reach.
 */
let lab: Lab;
useLab({ workers: 1 }, (started) => {
  lab = started;
});

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The command line as one string (Chromium rewrites its children's titles into one). */
  readonly cmdline: string;
  readonly exe: string;
  readonly status: Record<string, string>;
}

function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const status = Object.fromEntries(
      readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .map((line) => line.split(':\t'))
        .filter((parts): parts is [string, string] => parts.length === 2),
    );
    return { pid, ppid, cmdline, exe, status };
  } catch {
    return undefined;
  }
}

/** Every process below `root`, found through the parent pid of each process in /proc. */
function descendants(root: number): ProcessInfo[] {
  const all = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => processInfo(Number(e))).filter((p) => p !== undefined);
  const found: ProcessInfo[] = [];
  const parents = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

const environOf = (pid: number) =>
  readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e !== '').map((e) => e.slice(0, e.indexOf('=')));
const nsOf = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const typeOf = (p: ProcessInfo) => /--type=(\S+)/.exec(p.cmdline)?.[1] ?? 'browser';
const isChromium = (p: ProcessInfo) => p.exe === '/usr/lib/chromium/chromium';

describe('the bot\'s browser', () => {
  it('runs as an unprivileged user, its renderers under seccomp-bpf in namespaces of their own', () => {
    // Prepare
    const worker = lab.pool!.workers.find((w) => w.state === 'ready')!;
    const workerPid = worker.child.pid!;
    const nobody = spawnSync('id', ['-u', LAB_BROWSER_USER], { encoding: 'utf8' }).stdout.trim();

    // Act
    const chromium = descendants(workerPid).filter(isChromium);
    const renderers = chromium.filter((p) => typeOf(p) === 'renderer');
    const browser = chromium.find((p) => typeOf(p) === 'browser')!;

    // Assess
    expect(processInfo(workerPid)?.status['Uid']).toMatch(/^0\t/);
    expect(chromium.length).toBeGreaterThan(2);
    for (const p of chromium) expect(p.status['Uid'], `${typeOf(p)} ${p.pid}`).toBe(`${nobody}\t${nobody}\t${nobody}\t${nobody}`);
    // no capability in the worker's user namespace (a sandboxed zygote holds some in its own, which grant nothing here)
    for (const p of chromium.filter((c) => nsOf(c.pid, 'user') === nsOf(workerPid, 'user'))) {
      expect(p.status['CapEff'], `${typeOf(p)} ${p.pid}`).toBe('0000000000000000');
    }
    expect(renderers.length).toBeGreaterThan(0);
    for (const renderer of renderers) {
      expect(renderer.status['Seccomp'], 'renderer seccomp mode (2 = filter)').toBe('2');
      expect(renderer.status['NoNewPrivs']).toBe('1');
      expect(nsOf(renderer.pid, 'user')).not.toBe(nsOf(workerPid, 'user'));
      expect(nsOf(renderer.pid, 'pid')).not.toBe(nsOf(workerPid, 'pid'));
      expect(nsOf(renderer.pid, 'net'), 'a renderer has no network of its own').not.toBe(nsOf(browser.pid, 'net'));
    }
  });

  it('gets nothing of the worker\'s environment, and cannot read the worker\'s', () => {
    // Prepare
    const workerPid = lab.pool!.workers.find((w) => w.state === 'ready')!.child.pid!;
    const chromium = descendants(workerPid).filter(isChromium);
    const secret = lab.endpoints.env['ROOMLINE_JANUS_API_SECRET']!;

    // Act: the browser process's environment, which every other Chromium process inherits (they reuse the memory of
    // theirs for their process titles, so their /proc environ shows title text: checked for leaks all the same)
    const browser = chromium.find((p) => typeOf(p) === 'browser')!;
    const keys = environOf(browser.pid);
    const values = chromium.map((p) => readFileSync(`/proc/${p.pid}/environ`, 'utf8')).join('\n');
    const parent = browser.ppid;
    const asBrowserUser = spawnSync('setpriv', ['--reuid', LAB_BROWSER_USER, '--regid', 'nogroup', '--clear-groups', 'cat', `/proc/${parent}/environ`], { encoding: 'utf8' });

    // Assess
    expect(environOf(workerPid)).toEqual(expect.arrayContaining(['AWS_SECRET_ACCESS_KEY', 'ROOMLINE_JANUS_API_SECRET']));
    expect([...keys].sort()).toEqual([...BROWSER_ENVIRONMENT_KEYS].sort());
    expect(values).not.toContain(secret);
    expect(values).not.toMatch(/AWS_|ROOMLINE_|GOOGLE_/);
    expect(parent).toBe(workerPid);
    expect(asBrowserUser.status).not.toBe(0);
    expect(asBrowserUser.stderr).toContain('Permission denied');
  });

  it('lets a page reach the Janus node and nothing else, WebSockets included, through a proxy the page cannot skip', async () => {
    // Prepare: a browser launched as a worker launches it, with a lab page that has no guard of its own
    const config = loadWorkerConfig({ ...lab.endpoints.env });
    const logger = createLogger({ level: 'silent' });
    const browser = await BrowserSource.launch({ netns: lab.netns.name, logger, ...browserIsolationOf(config) });
    try {
      const page = await browser.newPage(await labSite());
      await browser.load(page, 'person.html');
      const tryWebSocket = (url: string) =>
        page.evaluate(
          (target) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(target, 'janus-protocol');
              ws.onopen = () => {
                ws.close();
                resolve('open');
              };
              ws.onerror = () => resolve('refused');
              setTimeout(() => resolve('timeout'), 5_000);
            }),
          url,
        );
      const tryFetch = (url: string) => page.evaluate((target) => fetch(target).then(() => 'reached', () => 'refused'), url);

      // Act
      const janus = await tryWebSocket(lab.janus.wsUrl);
      const phoneControl = await tryWebSocket(`ws://127.0.0.1:${PHONE_CTRL_PORT}/`);
      const otherPort = await tryWebSocket('ws://10.77.0.1:8089/');
      const metadata = await tryWebSocket('ws://169.254.169.254/');
      const refusedByProxy = browser.egressProxy?.refusedTargets ?? [];
      const metadataHttp = await tryFetch('http://169.254.169.254/latest/meta-data/');
      const janusHttp = await tryFetch('http://10.77.0.1:8188/');

      // Assess
      expect(janus).toBe('open');
      expect([phoneControl, otherPort, metadata]).toEqual(['refused', 'refused', 'refused']);
      expect(refusedByProxy).toEqual(expect.arrayContaining([`127.0.0.1:${PHONE_CTRL_PORT}`, '10.77.0.1:8089', '169.254.169.254:80']));
      expect(refusedByProxy).not.toContain('10.77.0.1:8188');
      expect([metadataHttp, janusHttp]).toEqual(['refused', 'refused']);
    } finally {
      await browser.close();
    }
  });

  it('refuses, in the bot page itself, a WebSocket to an origin its call does not allow', async () => {
    // Prepare
    const config = loadWorkerConfig({ ...lab.endpoints.env });
    const browser = await BrowserSource.launch({ netns: lab.netns.name, logger: createLogger({ level: 'silent' }), ...browserIsolationOf(config) });
    try {
      const page = await browser.newPage(await PageSite.load(botPageDir()));
      await browser.load(page);

      // Act
      const refused = await page.evaluate(() => {
        try {
          new WebSocket('ws://127.0.0.1:4444/');
          return 'opened';
        } catch (error) {
          return `${(error as DOMException).name}: ${(error as DOMException).message}`;
        }
      });

      // Assess
      expect(refused).toBe('SecurityError: a WebSocket to ws://127.0.0.1:4444 is not allowed for this call');
    } finally {
      await browser.close();
    }
  });

  it('bridges a call with all of this in place', async () => {
    // Act
    const callId = await lab.client.enqueueDial(lab.dialRequest({ limits: { ringTimeoutS: 20, maxDurationS: 2, emptyRoomTimeoutS: 30 } }));
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 60_000 });

    // Assess
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('limit');
    expect(record.quality?.sip.audioIn?.packets).toBeGreaterThan(20);
  });
});
