import { createServer, connect, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LabProcess } from '../child-process.js';
import { LAB_PEER_IP, type LabNetns } from '../netns.js';
import { NamespaceListeners } from '../ns-forward.js';
import { waitUntil } from '../wait.js';
import type { Namespace } from './namespace.js';
import { VPC_NETWORK } from './vpc.js';

/**
 * What the lab stands in for around a VPC: its DNS resolver with the Cloud Map names, AWS API endpoints reached from
 * tasks (the lab's emulators on the host's loopback, made reachable on the router's services address), and a
 * "what is my IP" service on the internet side that answers with the address a request came from, as
 * checkip.amazonaws.com does.
 */

/**
 * The resolver: A records of the names in its records file (re-read for every query, so registering a task is a
 * file write); NOERROR without answers for other types of those names, NXDOMAIN for every other name (nothing is
 * forwarded: a task resolves nothing of the real internet).
 */
const DNS_SOURCE = `
const dgram = require('node:dgram');
const fs = require('node:fs');
const [ip, recordsFile] = process.argv.slice(1);
const server = dgram.createSocket('udp4');
server.on('message', (query, peer) => {
  if (query.length < 12) return;
  let at = 12; const labels = [];
  while (at < query.length && query[at] !== 0) { const n = query[at]; labels.push(query.subarray(at + 1, at + 1 + n).toString('latin1')); at += n + 1; }
  const end = at + 5;
  if (end > query.length) return;
  const qtype = query.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  let records = {};
  try { records = JSON.parse(fs.readFileSync(recordsFile, 'utf8')); } catch {}
  const addresses = records[name];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  const answers = addresses !== undefined && qtype === 1 ? addresses : [];
  header.writeUInt16BE(0x8180 | (addresses === undefined ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts = [header, query.subarray(12, end)];
  for (const a of answers) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(1, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(10, 6); rr.writeUInt16BE(4, 10);
    a.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    parts.push(rr);
  }
  server.send(Buffer.concat(parts), peer.port, peer.address);
});
server.bind(53, ip, () => fs.writeFileSync(recordsFile + '.ready', ''));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** checkip: answers every request with the address it came from (after any NAT on the way), and a newline. */
const CHECKIP_SOURCE = `
const http = require('node:http');
const fs = require('node:fs');
const [ip, port, ready] = process.argv.slice(1);
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(req.socket.remoteAddress.replace(/^::ffff:/, '') + '\\n'); })
  .listen(Number(port), ip, () => fs.writeFileSync(ready, ''));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** The VPC resolver, answering on VPC_NETWORK.dnsIp inside the router. */
export class VpcDns {
  private readonly records = new Map<string, string[]>();

  private constructor(
    private readonly process: LabProcess,
    private readonly file: string,
  ) {}

  static async start(router: Namespace, dir: string): Promise<VpcDns> {
    const file = join(dir, 'vpc-dns.json');
    await writeFile(file, '{}');
    const { command, args } = router.wrap(process.execPath, ['-e', DNS_SOURCE, VPC_NETWORK.dnsIp, file]);
    const proc = LabProcess.start('vpc-dns', command, args, { logFile: join(dir, 'vpc-dns.log'), stdio: ['pipe', 'pipe', 'pipe'] });
    await proc.whileRunning(waitUntil(() => existsSync(`${file}.ready`), { timeoutMs: 10_000, what: 'the VPC resolver' }));
    return new VpcDns(proc, file);
  }

  /** Sets the A records of a name (a Cloud Map service: the addresses of its healthy tasks). */
  async set(name: string, addresses: readonly string[]): Promise<void> {
    this.records.set(name.toLowerCase(), [...addresses]);
    const temp = `${this.file}.tmp`;
    await writeFile(temp, JSON.stringify(Object.fromEntries(this.records)));
    await rename(temp, this.file);
  }

  async stop(): Promise<void> {
    this.process.child.stdin?.end();
    await this.process.stop();
  }
}

/** The "what is my IP" stand-in, on a host of the internet (port 80 of LAB_PEER_IP, the phone's host). */
export class CheckIp {
  readonly url = `http://${LAB_PEER_IP}/`;

  private constructor(private readonly process: LabProcess) {}

  static async start(internet: LabNetns, dir: string): Promise<CheckIp> {
    const ready = join(dir, 'checkip.ready');
    const { command, args } = internet.wrap(process.execPath, ['-e', CHECKIP_SOURCE, LAB_PEER_IP, '80', ready]);
    const proc = LabProcess.start('checkip', command, args, { logFile: join(dir, 'checkip.log'), stdio: ['pipe', 'pipe', 'pipe'] });
    await proc.whileRunning(waitUntil(() => existsSync(ready), { timeoutMs: 10_000, what: 'the checkip stand-in' }));
    return new CheckIp(proc);
  }

  async stop(): Promise<void> {
    this.process.child.stdin?.end();
    await this.process.stop();
  }
}

/** A TCP service of the host, offered inside the router at `ip:port`. */
export interface HostService {
  readonly name: string;
  /** Where the host serves it. */
  readonly hostPort: number;
  /** Where tasks reach it. */
  readonly ip: string;
  readonly port: number;
}

/**
 * Host services (the emulators on 127.0.0.1) made reachable from the VPC: the router listens at each service's
 * address and pipes every connection through a Unix socket to the host's port. Nothing leaves the machine.
 */
export class HostServices {
  private constructor(
    private readonly servers: readonly Server[],
    private readonly relay: NamespaceListeners,
    private readonly sockets: Set<Socket>,
  ) {}

  static async start(router: Namespace, dir: string, services: readonly HostService[]): Promise<HostServices> {
    const servers: Server[] = [];
    const held = new Set<Socket>();
    const targets = [];
    for (const service of services) {
      const socket = join(dir, `host-${service.name}.sock`);
      const server = createServer((inbound) => {
        const upstream = connect(service.hostPort, '127.0.0.1');
        held.add(inbound).add(upstream);
        inbound.pipe(upstream).pipe(inbound);
        const drop = () => {
          inbound.destroy();
          upstream.destroy();
          held.delete(inbound);
          held.delete(upstream);
        };
        inbound.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
      servers.push(server);
      targets.push({ name: service.name, socket, host: service.ip, port: service.port });
    }
    const relay = await NamespaceListeners.start(router, dir, 'vpc-host-services', targets);
    return new HostServices(servers, relay, held);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await this.relay.stop();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
