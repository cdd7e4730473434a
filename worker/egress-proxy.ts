import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HostAllowList } from '../contracts/egress-policy.js';
import type { Logger } from './logger.js';

/**
 * The bot page's only way out: an HTTP proxy in the worker process (Chromium runs with `--proxy-server` pointing here
 * and `--proxy-bypass-list=<-loopback>`, so loopback goes through it too). It tunnels (CONNECT: WebSockets and HTTPS)
 * or forwards (plain HTTP) only to the origins allowed at the moment: the Janus nodes of the worker's configuration, and
 * the origins the current call's room provider declares. A room origin's name is resolved here and every address is
 * checked against the room allow-list (a name allowed only by `*` must not lead to a private, loopback, link-local or
 * metadata address), then the connection goes to the checked address, so DNS cannot be made to answer differently in
 * between. A compromised renderer cannot skip this: request interception and the page's own guard are in the page's
 * reach, the proxy is not.
 *
 * What it cannot cover: WebRTC media (UDP/ICE) does not use an HTTP proxy. See docs/security.md.
 */
export interface EgressProxyOptions {
  /** The room allow-list (ROOMLINE_ROOM_HOSTS), applied to the addresses of room origins. */
  readonly rooms: HostAllowList;
  /** Origins of the worker's own configuration (the Janus nodes): allowed for the worker's whole life, trusted as resolved. */
  readonly fixedOrigins: readonly string[];
  /** Where to listen: a TCP port on 127.0.0.1, or a Unix socket (when Chromium runs in another network namespace). */
  readonly listen: { readonly port: 0 } | { readonly path: string };
  readonly logger: Logger;
  /** Resolves a name to its addresses. @default the system resolver */
  readonly lookup?: (host: string) => Promise<readonly string[]>;
  /**
   * Opens the upstream connection, resolving once it is up. @default a TCP connection from the worker's own network;
   * with Chromium in another namespace, a connection made from inside that namespace
   */
  readonly dial?: (host: string, port: number) => Promise<Duplex>;
}

/** A TCP connection from this process, once connected. */
export function dialDirect(host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'ws:': '80', 'http:': '80', 'wss:': '443', 'https:': '443' };

/** `host:port` (IPv6 in brackets, lower case) of an origin such as `wss://janus.example.com`. */
export function originTarget(origin: string): string {
  const url = new URL(origin);
  return `${url.hostname.toLowerCase()}:${url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? '') : url.port}`;
}

export class EgressProxy {
  private readonly fixed: ReadonlySet<string>;
  private call = new Set<string>();
  private readonly sockets = new Set<Duplex>();
  private refusedCount = 0;
  private readonly recent: string[] = [];

  private constructor(
    private readonly server: Server,
    private readonly options: EgressProxyOptions,
  ) {
    this.fixed = new Set(options.fixedOrigins.map(originTarget));
  }

  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    const server = createServer();
    const proxy = new EgressProxy(server, options);
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void proxy.tunnel(req, socket, head));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void proxy.forward(req, res));
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => socket.destroy());
    server.on('clientError', (_error, socket: Duplex) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if ('path' in options.listen) server.listen(options.listen.path, resolve);
      else server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  /** The TCP port on 127.0.0.1 (when listening on TCP). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Connections refused so far. */
  get refused(): number {
    return this.refusedCount;
  }

  /** The last (up to 100) targets refused, as `host:port`. */
  get refusedTargets(): readonly string[] {
    return [...this.recent];
  }

  /** The origins the current call may reach, besides the fixed ones; replaces the previous call's. */
  allowCallOrigins(origins: readonly string[]): void {
    this.call = new Set(origins.map(originTarget));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Where a connection to `target` (host:port) may go, or why it may not. */
  private async route(target: string): Promise<{ hosts: readonly string[]; port: number } | { refused: string }> {
    const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(target);
    if (match === null) return { refused: 'not host:port' };
    const host = match[1]!.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const port = Number(match[2]);
    const key = `${match[1]!.toLowerCase()}:${port}`;
    if (this.fixed.has(key)) return { hosts: [host], port };
    if (!this.call.has(key)) return { refused: 'origin not allowed for this call' };
    const verdict = this.options.rooms.check(host);
    if (!verdict.allowed) return { refused: verdict.reason };
    if (isIP(host) !== 0) return { hosts: [host], port };
    const addresses = await (this.options.lookup ?? systemLookup)(host).catch(() => [] as readonly string[]);
    if (addresses.length === 0) return { refused: `${host} does not resolve` };
    if (verdict.by === 'any-name') {
      for (const address of addresses) {
        const refusal = this.options.rooms.addressRefusal(address);
        if (refusal !== undefined) return { refused: `${host} resolves to ${refusal}` };
      }
    }
    // every address was checked: they are tried in turn (a name may resolve to ::1 first and serve on 127.0.0.1 only)
    return { hosts: addresses, port };
  }

  /** The first of `hosts` that takes a connection on `port`. */
  private async dialFirst(hosts: readonly string[], port: number): Promise<Duplex> {
    let lastError: unknown = new Error('no address');
    for (const host of hosts) {
      try {
        return await (this.options.dial ?? dialDirect)(host, port);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  private refuse(target: string, reason: string): void {
    this.refusedCount += 1;
    this.recent.push(target.slice(0, 300));
    if (this.recent.length > 100) this.recent.shift();
    this.options.logger.warn({ target: target.slice(0, 300), reason }, 'egress refused: the browser tried to reach what its call does not allow');
  }

  private async tunnel(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client)).on('error', () => client.destroy());
    const target = req.url ?? '';
    const route = await this.route(target);
    if ('refused' in route) {
      this.refuse(target, route.refused);
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let upstream: Duplex;
    try {
      upstream = await this.dialFirst(route.hosts, route.port);
    } catch {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream)).on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(403).end();
      return;
    }
    const target = originTarget(url.origin);
    const route = await this.route(target);
    if ('refused' in route) {
      this.refuse(target, route.refused);
      res.writeHead(403).end();
      return;
    }
    let socket: Duplex;
    try {
      socket = await this.dialFirst(route.hosts, route.port);
    } catch {
      res.writeHead(502).end();
      return;
    }
    // handed over connected and paused: the HTTP client reads it from here
    socket.resume();
    const upstream = httpRequest(
      {
        createConnection: () => socket as Socket,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: { ...req.headers, host: url.host },
        setHost: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  }
}

async function systemLookup(host: string): Promise<readonly string[]> {
  return (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);
}
