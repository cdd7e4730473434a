import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { JANUS_IMAGE_DIR, REPOSITORY_ROOT, WORKER_IMAGE_EXCLUDES } from '../../infra/roomline-bridge.js';
import { RoomlineStack } from '../../infra/roomline-stack.js';
import { WORKER_BROWSER_USER, WORKER_SETPRIV_PATH } from '../../infra/constructs/worker-service.js';

const dockerfile = readFileSync(join(REPOSITORY_ROOT, 'Dockerfile'), 'utf8');
const janusDockerfile = readFileSync(join(JANUS_IMAGE_DIR, 'Dockerfile'), 'utf8');

/** The instructions of a Dockerfile's last stage (continuation lines joined). */
function lastStage(text: string): string[] {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const start = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0).at(-1) ?? 0;
  return lines.slice(start);
}

describe('worker image', () => {
  const stage = lastStage(dockerfile);

  it('runs as the unprivileged node user', () => {
    // Act
    const users = stage.filter((l) => l.startsWith('USER '));

    // Assess
    expect(users.at(-1)).toBe('USER node');
  });

  it('runs Chromium as a user of its own, switched to by a setpriv only the worker\'s group may run', () => {
    // Prepare
    const text = stage.join('\n');

    // Assess
    expect(text).toContain(`useradd --system --uid 10002 --user-group --no-create-home --shell /usr/sbin/nologin ${WORKER_BROWSER_USER}`);
    expect(text).toContain(`install -o root -g node -m 0750 /usr/bin/setpriv ${WORKER_SETPRIV_PATH}`);
    expect(text).toContain(`setcap cap_setuid,cap_setgid=ep ${WORKER_SETPRIV_PATH}`);
    expect(text).toContain(`ROOMLINE_CHROMIUM_USER=${WORKER_BROWSER_USER}`);
    expect(text).toContain(`ROOMLINE_CHROMIUM_SETPRIV=${WORKER_SETPRIV_PATH}`);
  });

  it('is based on Node 22 or newer and carries Debian Chromium, where the worker expects it', () => {
    // Prepare
    const nodeImage = /ARG NODE_IMAGE=node:(\d+)-/.exec(dockerfile);

    // Assess
    expect(Number(nodeImage?.[1])).toBeGreaterThanOrEqual(22);
    expect(stage.join('\n')).toMatch(/apt-get install[^\n]*\bchromium\b/);
    expect(stage.join('\n')).toContain('ROOMLINE_CHROMIUM_PATH=/usr/bin/chromium');
  });

  it('contains the built CLI, client and bot page, and starts the worker without downloading or unpacking anything', () => {
    // Prepare
    const start = stage.filter((l) => l.startsWith('ENTRYPOINT') || l.startsWith('CMD')).join(' ');

    // Assess
    expect(stage).toContain('COPY --from=build /src/dist ./dist');
    expect(start).toContain('"node", "dist/cli.mjs"');
    expect(start).toContain('"worker"');
    expect(start).not.toMatch(/npx|npm|curl|wget|tar|unzip|sparticuz/);
  });

  it('keeps node_modules, cdk.out and other non-build folders out of the build context and the CDK asset', () => {
    // Prepare
    const ignored = readFileSync(join(REPOSITORY_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

    // Assess
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'cdk.out', '.git']));
    expect([...WORKER_IMAGE_EXCLUDES].sort()).toEqual([...ignored].sort());
  });
});

describe('image assets of a synthesized app', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'roomline-cdk-out-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('stage the worker build context without node_modules or cdk.out, and the Janus context with its entrypoint', () => {
    // Prepare
    const app = new App({ outdir });
    new RoomlineStack(app, 'Roomline');

    // Act
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'Roomline.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
    };
    const contexts = Object.values(manifest.dockerImages).map((image) => readdirSync(join(outdir, image.source.directory)));

    // Assess
    expect(contexts).toHaveLength(2);
    const worker = contexts.find((files) => files.includes('package.json'));
    const janus = contexts.find((files) => files.includes('entrypoint.sh'));
    expect(worker).toEqual(expect.arrayContaining(['Dockerfile', 'package.json', 'package-lock.json', 'worker', 'contracts']));
    for (const excluded of ['node_modules', 'cdk.out', '.git', 'test', 'infra']) expect(worker).not.toContain(excluded);
    expect(janus).toEqual(expect.arrayContaining(['Dockerfile', 'entrypoint.sh']));
  });
});

describe('Janus image', () => {
  it('runs as an unprivileged user and installs Debian Janus', () => {
    // Prepare
    const stage = lastStage(janusDockerfile);

    // Assess
    expect(stage.filter((l) => l.startsWith('USER ')).at(-1)).toMatch(/^USER [1-9]\d{3,}$/);
    expect(stage.join('\n')).toMatch(/apt-get install[^\n]*\bjanus\b/);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The SIP edge on this machine's loopback, on free ports (the entrypoint's defaults are the task's). */
async function hostEdge(): Promise<Record<string, string>> {
  return { JANUS_LOCAL_IP: '127.0.0.1', JANUS_SIP_EDGE_PORT: String(await freePort()), JANUS_SIP_EDGE_LOCAL_PORT: String(await freePort()) };
}

/** Addresses listening on a TCP port, from /proc/net/tcp (hex little-endian IPv4). */
function listenersOn(port: number, table: '/proc/net/tcp' | '/proc/net/tcp6' = '/proc/net/tcp'): string[] {
  const rows = readFileSync(table, 'utf8').split('\n').slice(1);
  return rows.flatMap((row) => {
    const [, local, , state] = row.trim().split(/\s+/);
    if (local === undefined || state !== '0A') return [];
    const [hexIp, hexPort] = local.split(':');
    if (hexIp === undefined || parseInt(hexPort ?? '', 16) !== port) return [];
    const bytes = hexIp.match(/../g)?.map((b) => parseInt(b, 16)).reverse() ?? [];
    return [bytes.join('.')];
  });
}

describe('Janus image entrypoint with the Janus of this machine', () => {
  it('configures Janus with only the SIP plugin, WebSocket API and a health endpoint bound to 127.0.0.1', async () => {
    // Prepare
    expect(existsSync('/usr/bin/janus'), 'Janus is part of the lab (npm run system-deps installs it)').toBe(true);
    const [wsPort, healthPort] = [await freePort(), await freePort()];
    const apiSecret = 'test-api-secret-0123456789';
    const janus = spawn('bash', [join(JANUS_IMAGE_DIR, 'entrypoint.sh')], {
      env: { ...process.env, ...(await hostEdge()), JANUS_SDP_IP: '127.0.0.1', JANUS_WS_PORT: String(wsPort), JANUS_HEALTH_PORT: String(healthPort), JANUS_DEBUG_LEVEL: '3', JANUS_API_SECRET: apiSecret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    janus.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    janus.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => janus.once('exit', () => resolve()));

    try {
      // Act
      let info: { plugins?: Record<string, unknown>; transports?: Record<string, unknown> } | undefined;
      const deadline = Date.now() + 20_000;
      while (info === undefined && Date.now() < deadline && janus.exitCode === null) {
        info = await fetch(`http://127.0.0.1:${healthPort}/janus/info`)
          .then((r) => (r.ok ? (r.json() as Promise<typeof info>) : undefined))
          .catch(() => undefined);
        if (info === undefined) await new Promise((r) => setTimeout(r, 200));
      }

      // Assess
      expect(info, output).toBeDefined();
      expect(Object.keys(info?.plugins ?? {})).toEqual(['janus.plugin.sip']);
      expect(Object.keys(info?.transports ?? {}).sort()).toEqual(['janus.transport.http', 'janus.transport.websockets']);
      expect(output).toContain('SIP plugin announces 127.0.0.1');
      expect(listenersOn(healthPort)).toEqual(['127.0.0.1']);
      expect([...listenersOn(wsPort), ...listenersOn(wsPort, '/proc/net/tcp6')].length).toBeGreaterThan(0);
      // every request but info must carry the API secret
      const create = (extra: Record<string, string>) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, 'janus-protocol');
          ws.onopen = () => ws.send(JSON.stringify({ janus: 'create', transaction: 't', ...extra }));
          ws.onmessage = (event) => {
            ws.close();
            resolve(String((JSON.parse(String(event.data)) as { janus: string }).janus));
          };
          ws.onerror = () => resolve('transport error');
        });
      expect(await create({})).toBe('error');
      expect(await create({ apisecret: 'wrong' })).toBe('error');
      expect(await create({ apisecret: apiSecret })).toBe('success');
    } finally {
      janus.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (janus.exitCode === null) janus.kill('SIGKILL');
    }
  });

  it('refuses to start without an API secret', async () => {
    // Prepare
    const janus = spawn('bash', [join(JANUS_IMAGE_DIR, 'entrypoint.sh')], {
      env: { ...process.env, JANUS_SDP_IP: '127.0.0.1', JANUS_API_SECRET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    janus.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    // Act
    const code = await new Promise<number | null>((resolve) => janus.once('exit', (c) => resolve(c)));

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('no API secret (set JANUS_API_SECRET)');
  });

  it('drops a WebSocket client that went silent (no pong) within 5 s, and keeps one that answers its pings', async () => {
    // Prepare
    const [wsPort, healthPort] = [await freePort(), await freePort()];
    const janus = spawn('bash', [join(JANUS_IMAGE_DIR, 'entrypoint.sh')], {
      env: { ...process.env, ...(await hostEdge()), JANUS_SDP_IP: '127.0.0.1', JANUS_WS_PORT: String(wsPort), JANUS_HEALTH_PORT: String(healthPort), JANUS_DEBUG_LEVEL: '3', JANUS_API_SECRET: 'some-secret-value' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => janus.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !(await fetch(`http://127.0.0.1:${healthPort}/janus/info`).then((r) => r.ok, () => false))) {
        await new Promise((r) => setTimeout(r, 200));
      }
      // a client that answers pings (what a live browser does by itself)
      const live = new WebSocket(`ws://127.0.0.1:${wsPort}/`, 'janus-protocol');
      let liveClosed = false;
      live.onclose = () => (liveClosed = true);
      await new Promise((resolve, reject) => ((live.onopen = resolve), (live.onerror = reject)));
      // a client that completed the handshake and then went silent: it never answers a ping (a cut connection)
      const silent = connect(wsPort, '127.0.0.1');
      await new Promise((resolve) => silent.once('connect', resolve));
      silent.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: janus-protocol\r\n\r\n',
      );
      silent.resume();
      const since = Date.now();

      // Act
      await new Promise((resolve) => silent.once('close', resolve));
      const droppedAfter = Date.now() - since;

      // Assess
      expect(droppedAfter).toBeLessThanOrEqual(5_000);
      expect(liveClosed).toBe(false);
      live.close();
    } finally {
      janus.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (janus.exitCode === null) janus.kill('SIGKILL');
    }
  });

  it('refuses to start without a public address to announce', async () => {
    // Prepare
    const janus = spawn('bash', [join(JANUS_IMAGE_DIR, 'entrypoint.sh')], {
      env: { ...process.env, JANUS_SDP_IP: 'not-an-ip', JANUS_PUBLIC_IP_URL: 'http://127.0.0.1:9/', JANUS_API_SECRET: 'some-secret-value' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    janus.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    // Act
    const code = await new Promise<number | null>((resolve) => janus.once('exit', (c) => resolve(c)));

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('no public IPv4 address');
  });
});
