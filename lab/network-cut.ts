import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './child-process.js';
import type { LabNetns } from './netns.js';

/** One socket of a process inside the lab's namespace: protocol, local address and port. */
export interface NamespaceSocket {
  readonly protocol: 'tcp' | 'udp';
  readonly address: string;
  readonly port: number;
}

/**
 * Cuts the network of some processes inside the lab's namespace without a word: an nftables rule drops every packet
 * to or from their sockets, so the other ends see no FIN and no reset, only silence (what a pulled cable or a dead
 * NAT looks like). Needs the `nft` command (Debian's `nftables`, installed by scripts/system-deps.mjs).
 */
export class NetworkCut {
  private restored = false;

  private constructor(
    private readonly netns: LabNetns,
    private readonly table: string,
    readonly sockets: readonly NamespaceSocket[],
  ) {}

  /**
   * Cuts the sockets that the processes `pids` (and their descendants) hold in the namespace now: every one, or only
   * their TCP connections to `peer` (e.g. a browser's WebSocket to one Janus node).
   */
  static async of(
    netns: LabNetns,
    pids: readonly number[],
    dir: string,
    peer?: { readonly address: string; readonly port: number },
  ): Promise<NetworkCut> {
    const tree = await descendantsOf(pids);
    const sockets = await socketsOf(netns, tree, peer);
    if (sockets.length === 0) {
      throw new Error(`no sockets of processes ${[...tree].join(', ')} in ${netns.name}${peer === undefined ? '' : ` to ${peer.address}:${peer.port}`}`);
    }
    const table = `roomline_cut_${Date.now().toString(36)}`;
    const rules = sockets.flatMap((s) => [
      `    ip saddr ${s.address} ${s.protocol} sport ${s.port} drop`,
      `    ip daddr ${s.address} ${s.protocol} dport ${s.port} drop`,
    ]);
    const file = join(dir, `${table}.nft`);
    await writeFile(
      file,
      `table inet ${table} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n${rules.join('\n')}\n  }\n}\n`,
    );
    const { command, args } = netns.wrap('nft', ['-f', file]);
    await run(command, args);
    return new NetworkCut(netns, table, sockets);
  }

  /** Lets the packets through again (the connections may be gone by then). Idempotent. */
  async restore(): Promise<void> {
    if (this.restored) return;
    this.restored = true;
    const { command, args } = this.netns.wrap('nft', ['delete', 'table', 'inet', this.table]);
    await run(command, args).catch(() => undefined);
  }
}

/** The processes and all their descendants (from /proc). */
export async function descendantsOf(pids: readonly number[]): Promise<Set<number>> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // the command name may hold spaces and parentheses: the fields after its last ")" are fixed
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found = new Set<number>();
  const queue = [...pids];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return found;
}

/** The command name of a process (`/proc/<pid>/comm`), or undefined if it is gone. */
export async function commandOf(pid: number): Promise<string | undefined> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => undefined))?.trim();
}

/** The TCP and UDP sockets that processes `pids` hold inside the namespace, from `ss`. */
async function socketsOf(
  netns: LabNetns,
  pids: ReadonlySet<number>,
  peer: { readonly address: string; readonly port: number } | undefined,
): Promise<NamespaceSocket[]> {
  const { command, args } = netns.wrap('ss', ['-tunapH']);
  const out = await run(command, args);
  const sockets = new Map<string, NamespaceSocket>();
  for (const line of out.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const protocol = fields[0];
    if (protocol !== 'tcp' && protocol !== 'udp') continue;
    const owners = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    if (!owners.some((pid) => pids.has(pid))) continue;
    const local = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(fields[4] ?? '');
    if (local === null || local[1] === '0.0.0.0') continue;
    if (peer !== undefined && (protocol !== 'tcp' || fields[5] !== `${peer.address}:${peer.port}`)) continue;
    const socket = { protocol, address: local[1]!, port: Number(local[2]) } as const;
    sockets.set(`${socket.protocol} ${socket.address}:${socket.port}`, socket);
  }
  return [...sockets.values()];
}
