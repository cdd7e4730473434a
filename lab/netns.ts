import { isAlive, run } from './child-process.js';

/**
 * The lab's own network namespace. Janus never gathers loopback ICE candidates, so the lab's media runs inside a
 * namespace with a veth pair (10.77.0.1 <-> 10.77.0.2) that exists nowhere else: nothing the lab sends can leave it.
 */
export const LAB_NETNS_PREFIX = 'roomline-';
export const LAB_JANUS_IP = '10.77.0.1';
export const LAB_PEER_IP = '10.77.0.2';
export const LAB_ICE_INTERFACE = 'va';
/** Room servers a lab call may reach (ROOMLINE_ROOM_HOSTS): the lab's Janus, inside the namespace. */
export const LAB_ROOM_HOSTS = LAB_JANUS_IP;
/** SIP targets a lab call may reach (ROOMLINE_SIP_HOSTS): the phone and the failure simulator, on the namespace's loopback. */
export const LAB_SIP_HOSTS = '127.0.0.1';
/**
 * The unprivileged user every Chromium of the lab runs as (ROOMLINE_CHROMIUM_USER), sandbox on, as in production: the
 * lab runs as root, and Chromium's sandbox refuses root. `nobody` exists on every Debian system.
 */
export const LAB_BROWSER_USER = 'nobody';

/** How the lab's tools start a Chromium: sandboxed, as {@link LAB_BROWSER_USER} when they run as root. */
export function labBrowserIsolation(): { readonly isolation: { readonly user?: string } } {
  return { isolation: process.getuid?.() === 0 ? { user: LAB_BROWSER_USER } : {} };
}

export class LabNetns {
  readonly name: string;
  private removed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates `roomline-<pid>` (removing namespaces left by lab processes that no longer exist). */
  static async create(): Promise<LabNetns> {
    if (process.platform !== 'linux') {
      throw new Error('the lab needs Linux network namespaces (ip netns); this system is ' + process.platform);
    }
    if (process.getuid?.() !== 0) {
      throw new Error(
        'the lab creates a network namespace for its media and needs root: run it as root (e.g. sudo -E npm run demo)',
      );
    }
    await removeStaleNamespaces();
    const ns = new LabNetns(`${LAB_NETNS_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 6)}`);
    await run('ip', ['netns', 'add', ns.name]);
    try {
      const ipn = (...args: string[]) => run('ip', ['-n', ns.name, ...args]);
      await ipn('link', 'set', 'lo', 'up');
      await ipn('link', 'add', LAB_ICE_INTERFACE, 'type', 'veth', 'peer', 'name', 'vb');
      await ipn('addr', 'add', `${LAB_JANUS_IP}/24`, 'dev', LAB_ICE_INTERFACE);
      await ipn('addr', 'add', `${LAB_PEER_IP}/24`, 'dev', 'vb');
      await ipn('link', 'set', LAB_ICE_INTERFACE, 'up');
      await ipn('link', 'set', 'vb', 'up');
      // A default route, as any host has: Chromium offers a host ICE candidate only for the interface of its default
      // route (it lists no others to a page that has not captured media), and two browsers that offer none cannot
      // connect to each other (the Chime stand-in's media page and a bot or person). Packets for any other address
      // stay inside the namespace: the veth peer is here too, nothing answers ARP for them and nothing forwards.
      await ipn('route', 'add', 'default', 'dev', LAB_ICE_INTERFACE);
    } catch (error) {
      await ns.remove();
      throw error;
    }
    return ns;
  }

  /** The command line that runs `command` inside the namespace. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.name, command, ...args] };
  }

  /** Kills whatever still runs inside and deletes the namespace. Idempotent. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await killNamespaceProcesses(this.name);
    await run('ip', ['netns', 'delete', this.name]).catch(() => undefined);
  }
}

async function killNamespaceProcesses(name: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', name]).catch(() => '');
  for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function removeStaleNamespaces(): Promise<void> {
  const list = await run('ip', ['netns', 'list']).catch(() => '');
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = name.startsWith(LAB_NETNS_PREFIX) ? Number(name.slice(LAB_NETNS_PREFIX.length).split('-')[0]) : NaN;
    if (!Number.isInteger(owner) || isAlive(owner)) continue;
    await killNamespaceProcesses(name);
    await run('ip', ['netns', 'delete', name]).catch(() => undefined);
  }
}
