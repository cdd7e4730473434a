import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { LabProcess, run } from './child-process.js';
import type { LabNetns } from './netns.js';
import { waitUntil } from './wait.js';
import { existsSync } from 'node:fs';

/**
 * Makes TCP services inside the lab's namespace reachable on the host's loopback (for the CLI, tests and tools):
 * host 127.0.0.1:<port> → a Unix socket (file sockets are not namespaced) → a relay inside the namespace → the
 * service's address there. Nothing leaves the machine.
 */

/** The relay that runs inside the namespace: one Unix socket per target, each connection piped to the target. */
const RELAY_SOURCE = `
const net = require('node:net');
const fs = require('node:fs');
for (const spec of process.argv.slice(1)) {
  if (spec.startsWith('>')) {
    // inbound: a TCP port inside the namespace, each connection piped to a Unix socket the host serves
    const [sock, host, port] = spec.slice(1).split('|');
    net.createServer((c) => {
      const t = net.connect(sock);
      c.pipe(t).pipe(c);
      c.on('error', () => t.destroy());
      t.on('error', () => c.destroy());
    }).listen(Number(port), host, () => fs.writeFileSync(sock + '.ready', ''));
    continue;
  }
  const [sock, host, port] = spec.split('|');
  try { fs.unlinkSync(sock); } catch {}
  net.createServer((c) => {
    const t = net.connect(Number(port), host);
    c.pipe(t).pipe(c);
    c.on('error', () => t.destroy());
    t.on('error', () => c.destroy());
  }).listen(sock);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export interface ForwardTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** A service of the host (on a Unix socket) made reachable inside the namespace at `host:port`. */
export interface InboundTarget {
  readonly name: string;
  /** The Unix socket the host serves. */
  readonly socket: string;
  /** Address and port to listen on inside the namespace. */
  readonly host: string;
  readonly port: number;
}

/**
 * The other direction: services of the host made reachable inside the lab's namespace (a relay listens there and
 * pipes each connection to a Unix socket the host serves). Nothing leaves the machine.
 */
export class NamespaceListeners {
  private constructor(private readonly relay: LabProcess) {}

  static async start(netns: Pick<LabNetns, 'wrap'>, dir: string, name: string, targets: readonly InboundTarget[]): Promise<NamespaceListeners> {
    const { command, args } = netns.wrap(process.execPath, [
      '-e',
      RELAY_SOURCE,
      ...targets.map((t) => `>${t.socket}|${t.host}|${t.port}`),
    ]);
    const relay = LabProcess.start(name, command, args, { logFile: join(dir, `${name}.log`), stdio: ['pipe', 'pipe', 'pipe'] });
    await relay.whileRunning(
      waitUntil(() => targets.every((t) => existsSync(`${t.socket}.ready`)), { timeoutMs: 10_000, what: `the ${name} relay` }),
    );
    return new NamespaceListeners(relay);
  }

  async stop(): Promise<void> {
    this.relay.child.stdin?.end();
    await this.relay.stop();
  }
}

export class NamespaceForwards {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  /** Host loopback port of each forwarded target, by name. */
  readonly ports = new Map<string, number>();

  private constructor(private readonly relay: LabProcess) {}

  static async start(netns: LabNetns, dir: string, targets: readonly ForwardTarget[]): Promise<NamespaceForwards> {
    const specs = targets.map((t) => ({ ...t, sock: join(dir, `fwd-${t.name}.sock`) }));
    const { command, args } = netns.wrap(process.execPath, [
      '-e',
      RELAY_SOURCE,
      ...specs.map((s) => `${s.sock}|${s.host}|${s.port}`),
    ]);
    const relay = LabProcess.start('ns-relay', command, args, {
      logFile: join(dir, 'ns-relay.log'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const forwards = new NamespaceForwards(relay);
    await relay.whileRunning(
      waitUntil(() => specs.every((s) => existsSync(s.sock)), { timeoutMs: 10_000, what: 'the namespace relay' }),
    );
    for (const spec of specs) {
      const server = createServer((client) => {
        const upstream = connect(spec.sock);
        forwards.sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          forwards.sockets.delete(client);
          forwards.sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('forward has no TCP address');
      forwards.servers.push(server);
      forwards.ports.set(spec.name, address.port);
    }
    return forwards;
  }

  port(name: string): number {
    const port = this.ports.get(name);
    if (port === undefined) throw new Error(`no forward named ${name}`);
    return port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    this.relay.child.stdin?.end();
    await this.relay.stop();
  }
}

/** The relay that runs inside the namespace for {@link NamespaceEntrance}: a TCP port piped to a Unix socket. */
const ENTRANCE_SOURCE = `
const net = require('node:net');
const [host, port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const t = net.connect(sock);
  c.pipe(t).pipe(c);
  c.on('error', () => t.destroy());
  t.on('error', () => c.destroy());
}).listen(Number(port), host);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * The other way round: a server of the host (listening on a Unix socket, which is not namespaced) made reachable inside
 * the lab's namespace at `127.0.0.1:<port>`, for pages of the lab's Chromium. Nothing leaves the machine.
 */
export class NamespaceEntrance {
  private constructor(private readonly relay: LabProcess) {}

  static async start(netns: LabNetns, dir: string, target: { name: string; port: number; socket: string }): Promise<NamespaceEntrance> {
    const { command, args } = netns.wrap(process.execPath, ['-e', ENTRANCE_SOURCE, '127.0.0.1', String(target.port), target.socket]);
    const relay = LabProcess.start(`ns-entrance-${target.name}`, command, args, {
      logFile: join(dir, `ns-entrance-${target.name}.log`),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const listening = netns.wrap('ss', ['-ltn']);
    await relay.whileRunning(
      waitUntil(async () => (await run(listening.command, listening.args)).includes(`127.0.0.1:${target.port}`), {
        timeoutMs: 10_000,
        what: `the namespace entrance for ${target.name}`,
        intervalMs: 100,
      }),
    );
    return new NamespaceEntrance(relay);
  }

  async stop(): Promise<void> {
    this.relay.child.stdin?.end();
    await this.relay.stop();
  }
}
