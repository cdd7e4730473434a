import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import type { HostAllowList } from '../contracts/egress-policy.js';
import { EgressProxy } from './egress-proxy.js';
import type { Logger } from './logger.js';

/** The egress proxy every connection of the browser goes through (worker/egress-proxy.ts). */
export interface BrowserEgress {
  /** The room allow-list, applied to the addresses of room origins. */
  readonly rooms: HostAllowList;
  /** Origins allowed for the browser's whole life (the Janus nodes). */
  readonly fixedOrigins: readonly string[];
}

/**
 * Where the browser reaches the egress proxy, and where the proxy's connections start. Without a namespace, the proxy
 * listens on 127.0.0.1 and connects from the worker. With one (the lab), neither 127.0.0.1 nor the routes there are
 * the worker's: a helper inside the namespace listens on its 127.0.0.1 and pipes each connection to the proxy's Unix
 * socket (file sockets are not namespaced), and makes the proxy's upstream connections from inside, where the
 * addresses the proxy allowed exist. The helper decides nothing; its dial socket is root's alone.
 */
export class EgressRoute {
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
