import { run } from '../child-process.js';
import { LAB_NETNS_PREFIX } from '../netns.js';

/**
 * A network namespace of the container lab (the VPC's router, one per task), named `roomline-<pid>-<tag>` like the
 * lab's own: a lab that died is cleaned up by the next one (LabNetns removes namespaces of processes that are gone).
 */
export class Namespace {
  private removed = false;

  private constructor(readonly name: string) {}

  static async create(tag: string): Promise<Namespace> {
    const ns = new Namespace(`${LAB_NETNS_PREFIX}${process.pid}-${tag}`);
    await run('ip', ['netns', 'add', ns.name]);
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** The namespace's file, as `podman run --network ns:<path>` takes it. */
  get path(): string {
    return `/run/netns/${this.name}`;
  }

  /** The command line that runs `command` inside the namespace. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.name, command, ...args] };
  }

  /** Runs a command inside the namespace to completion. */
  exec(command: string, ...args: string[]): Promise<string> {
    const wrapped = this.wrap(command, args);
    return run(wrapped.command, wrapped.args);
  }

  /** `ip -n <ns> ...` */
  ip(...args: string[]): Promise<string> {
    return run('ip', ['-n', this.name, ...args]);
  }

  async sysctl(key: string, value: string): Promise<void> {
    await this.exec('sysctl', '-q', '-w', `${key}=${value}`);
  }

  /** Kills what still runs inside and deletes the namespace. Idempotent. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    const pids = await run('ip', ['netns', 'pids', this.name]).catch(() => '');
    for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await run('ip', ['netns', 'delete', this.name]).catch(() => undefined);
  }
}
