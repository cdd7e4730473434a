import { createServer as createHttpServer, request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAllowList } from '../../contracts/egress-policy.js';
import { EgressProxy } from '../../worker/egress-proxy.js';
import { createLogger } from '../../worker/logger.js';

/**
 * The egress proxy with real sockets on loopback: what it tunnels, what it refuses, and where a name's addresses
 * decide. Loopback stands for "a server the call allows" here, listed explicitly as the lab lists its own addresses.
 */
let echo: Server;
let echoPort: number;
let otherPort: number;
let other: Server;
const web = createHttpServer((req, res) => res.end(`hello ${req.url}`));
let webPort: number;

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  other = createServer((socket) => socket.pipe(socket));
  echoPort = await listen(echo);
  otherPort = await listen(other);
  webPort = await listen(web);
});
afterAll(async () => {
  for (const server of [echo, other, web]) await new Promise((resolve) => server.close(resolve));
});

/** Sends CONNECT target through the proxy; resolves with the status line and, when tunnelled, what came back. */
function tunnel(proxyPort: number, target: string): Promise<{ status: string; echoed?: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = text.slice(0, text.indexOf('\r\n'));
      if (!status.includes(' 200 ')) {
        socket.destroy();
        resolve({ status });
        return;
      }
      const rest = text.slice(end + 4);
      if (rest.length === 0) socket.write('ping');
      if (rest.includes('ping')) {
        socket.destroy();
        resolve({ status, echoed: rest });
      }
    });
    socket.on('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

describe('the egress proxy', () => {
  const logger = createLogger({ level: 'silent' });

  it('tunnels to the fixed origins and the call\'s origins only, and refuses the rest with 403', async () => {
    // Prepare
    const proxy = await EgressProxy.start({
      rooms: HostAllowList.parse('127.0.0.1'),
      fixedOrigins: [`ws://127.0.0.1:${echoPort}`],
      listen: { port: 0 },
      logger,
    });
    try {
      // Act
      const fixed = await tunnel(proxy.port, `127.0.0.1:${echoPort}`);
      const beforeCall = await tunnel(proxy.port, `127.0.0.1:${otherPort}`);
      proxy.allowCallOrigins([`wss://127.0.0.1:${otherPort}`]);
      const duringCall = await tunnel(proxy.port, `127.0.0.1:${otherPort}`);
      proxy.allowCallOrigins([]);
      const afterCall = await tunnel(proxy.port, `127.0.0.1:${otherPort}`);

      // Assess
      expect(fixed).toEqual({ status: 'HTTP/1.1 200 Connection Established', echoed: 'ping' });
      expect(beforeCall.status).toBe('HTTP/1.1 403 Forbidden');
      expect(duringCall.status).toBe('HTTP/1.1 200 Connection Established');
      expect(afterCall.status).toBe('HTTP/1.1 403 Forbidden');
      expect(proxy.refusedTargets).toEqual([`127.0.0.1:${otherPort}`, `127.0.0.1:${otherPort}`]);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a call origin whose name, allowed only by "*", resolves to a loopback or metadata address', async () => {
    // Prepare
    const proxy = await EgressProxy.start({
      rooms: HostAllowList.parse('*'),
      fixedOrigins: [],
      listen: { port: 0 },
      logger,
      lookup: async (host) => (host === 'rebind.example.com' ? ['169.254.169.254'] : ['127.0.0.1']),
      dial: async () => {
        throw new Error('must not dial');
      },
    });
    try {
      proxy.allowCallOrigins(['wss://rebind.example.com', `wss://sneaky.example.com:${echoPort}`, 'wss://127.0.0.1']);

      // Act
      const results = await Promise.all([
        tunnel(proxy.port, 'rebind.example.com:443'),
        tunnel(proxy.port, `sneaky.example.com:${echoPort}`),
        tunnel(proxy.port, '127.0.0.1:443'),
      ]);

      // Assess
      expect(results.map((r) => r.status)).toEqual(['HTTP/1.1 403 Forbidden', 'HTTP/1.1 403 Forbidden', 'HTTP/1.1 403 Forbidden']);
    } finally {
      await proxy.close();
    }
  });

  it('forwards plain HTTP to an allowed origin and refuses it elsewhere', async () => {
    // Prepare
    const proxy = await EgressProxy.start({ rooms: HostAllowList.parse('127.0.0.1'), fixedOrigins: [], listen: { port: 0 }, logger });
    proxy.allowCallOrigins([`http://127.0.0.1:${webPort}`]);
    const get = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: proxy.port, path: url, headers: { host: new URL(url).host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      // Act
      const allowed = await get(`http://127.0.0.1:${webPort}/sdk.js`);
      const refused = await get(`http://127.0.0.1:${otherPort}/`);

      // Assess
      expect(allowed).toEqual({ status: 200, body: 'hello /sdk.js' });
      expect(refused.status).toBe(403);
    } finally {
      await proxy.close();
    }
  });
});
