import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { podman, podmanResult, ulimitArgs } from './podman.js';
import type { TaskDefinition } from './task-definitions.js';
import { VPC_NETWORK, type TaskLink } from './vpc.js';

/**
 * One task run as Fargate runs it, with podman: in its own network namespace (awsvpc), as the image's user, with
 * Docker's default capability set and nothing more (a task definition may add SYS_PTRACE, the one capability Fargate
 * adds), the task's CPU and memory as the container's limits (no swap), its system controls, its environment, and its
 * secrets read as ECS reads them, from Secrets Manager at start. No user namespace (Fargate runs none), no init
 * process beyond the image's own, the root file system writable. A stop is ECS's: SIGTERM, then SIGKILL once the
 * container's stop timeout has passed.
 */

/** Docker's default capabilities: what a Fargate container has. */
export const DOCKER_DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID',
  'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
] as const;
/** The only capability a Fargate task definition may add. */
const FARGATE_ADDABLE = ['SYS_PTRACE'];

/** A file of the lab put into a container (read-only unless said), e.g. an instrument. */
export interface LabMount {
  readonly host: string;
  readonly container: string;
  readonly writable?: boolean;
}

export interface FargateTaskOptions {
  readonly name: string;
  readonly image: string;
  readonly definition: TaskDefinition;
  readonly link: TaskLink;
  /** The container's whole environment: the task definition's, its secrets' values, what ECS adds, the lab's endpoints. */
  readonly environment: Readonly<Record<string, string>>;
  /** Folder for the task's files (environment file, hosts, log). */
  readonly dir: string;
  readonly mounts?: readonly LabMount[];
}

export interface TaskExit {
  readonly code: number;
  readonly at: number;
}

export interface TaskStop {
  /** Milliseconds from SIGTERM until the container was gone. */
  readonly stoppedAfterMs: number;
  /** Whether SIGKILL was needed (the stop timeout passed). */
  readonly killed: boolean;
  readonly exit: TaskExit;
}

export class FargateTask {
  readonly startedAt = Date.now();
  private exitPromise: Promise<TaskExit> | undefined;

  private constructor(
    readonly options: FargateTaskOptions,
    readonly containerName: string,
    readonly logFile: string,
  ) {}

  static async start(options: FargateTaskOptions): Promise<FargateTask> {
    const added = options.definition.addedCapabilities;
    const refused = added.filter((c) => !FARGATE_ADDABLE.includes(c));
    if (refused.length > 0) throw new Error(`${options.definition.logicalId} adds ${refused.join(', ')}: Fargate adds only SYS_PTRACE`);
    const dir = join(options.dir, options.name);
    await mkdir(dir, { recursive: true });
    const envFile = join(dir, 'env');
    for (const [key, value] of Object.entries(options.environment)) {
      if (/[\n\r]/.test(value)) throw new Error(`${options.name}: ${key} holds a line break, which no container environment can carry here`);
    }
    await writeFile(envFile, Object.entries(options.environment).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    const hosts = join(dir, 'hosts');
    const resolv = join(dir, 'resolv.conf');
    // what a Fargate task's /etc/hosts and resolv.conf hold: its own name and address, the VPC's resolver
    await writeFile(hosts, `127.0.0.1\tlocalhost\n${options.link.ip}\t${options.link.hostname}\n`);
    await writeFile(resolv, `nameserver ${VPC_NETWORK.dnsIp}\nsearch ec2.internal\n`);
    await chmod(hosts, 0o644);
    await chmod(resolv, 0o644);
    const logFile = join(dir, 'container.log');
    const containerName = options.link.netns.name;
    const { definition } = options;
    await podmanResult(['rm', '--force', '--ignore', containerName]);
    try {
      await podman([
        'run',
        '--detach',
        '--name', containerName,
        '--network', `ns:${options.link.netns.path}`,
        '--hostname', options.link.hostname,
        '--volume', `${hosts}:/etc/hosts:ro`,
        '--volume', `${resolv}:/etc/resolv.conf:ro`,
        '--cap-drop', 'all',
        '--cap-add', [...DOCKER_DEFAULT_CAPABILITIES, ...added].join(','),
        '--cpus', String(definition.cpu / 1024),
        '--memory', `${definition.memoryMiB}m`,
        '--memory-swap', `${definition.memoryMiB}m`,
        // Docker's defaults, where podman's differ: no process limit, 64 MB /dev/shm
        '--pids-limit', '-1',
        '--shm-size', '64m',
        ...ulimitArgs(),
        ...definition.systemControls.flatMap((c) => ['--sysctl', `${c.namespace}=${c.value}`]),
        '--env-file', envFile,
        ...(options.mounts ?? []).flatMap((m) => ['--volume', `${m.host}:${m.container}:${m.writable === true ? 'rw' : 'ro'}`]),
        '--log-driver', 'k8s-file',
        '--log-opt', `path=${logFile}`,
        options.image,
      ]);
    } finally {
      await rm(envFile, { force: true });
    }
    return new FargateTask(options, containerName, logFile);
  }

  get name(): string {
    return this.options.name;
  }

  /** Resolves when the container has exited, with its exit code. */
  exited(): Promise<TaskExit> {
    this.exitPromise ??= (async () => {
      const output = await podman(['wait', this.containerName]).catch(() => '');
      const code = Number(output.trim().split('\n').at(-1));
      return { code: Number.isFinite(code) ? code : -1, at: Date.now() };
    })();
    return this.exitPromise;
  }

  /** Whether the container is still running. */
  async running(): Promise<boolean> {
    const state = await podmanResult(['inspect', '--format', '{{.State.Running}}', this.containerName]);
    return state.code === 0 && state.stdout.trim() === 'true';
  }

  /**
   * Waits until the task definition's health check passes, run in the container as ECS runs it (CMD-SHELL: with
   * /bin/sh -c), every second here rather than every interval. Throws with the check's output and the end of the
   * container's log when the container exits or the start period and retries run out.
   */
  async waitHealthy(timeoutMs?: number): Promise<number> {
    const check = this.options.definition.healthCheck;
    if (check === undefined) return 0;
    const [kind, ...rest] = check.command;
    const command = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest;
    const deadline = Date.now() + (timeoutMs ?? (check.startPeriodS + check.retries * check.intervalS) * 1000);
    let last = '';
    for (;;) {
      if (!(await this.running())) throw new Error(`${this.name} exited before its health check passed:\n${await this.logTail()}`);
      const result = await podmanResult(['exec', this.containerName, ...command]);
      if (result.code === 0) return Date.now() - this.startedAt;
      last = `${result.stdout}${result.stderr}`.trim();
      if (Date.now() > deadline) throw new Error(`${this.name}: health check ${JSON.stringify(check.command)} still fails (${last}):\n${await this.logTail()}`);
      await sleep(1_000);
    }
  }

  /** Runs a command in the container (as its user) and returns what it printed; throws if it fails. */
  async exec(...command: string[]): Promise<string> {
    return podman(['exec', this.containerName, ...command]);
  }

  /** Stops the task as ECS does: SIGTERM, SIGKILL after the container's stop timeout. */
  async stop(): Promise<TaskStop> {
    const started = Date.now();
    if (!(await this.running())) return { stoppedAfterMs: 0, killed: false, exit: await this.exited() };
    const timeoutS = this.options.definition.stopTimeoutS;
    await podmanResult(['stop', '--time', String(timeoutS), this.containerName]);
    const exit = await this.exited();
    const stoppedAfterMs = Date.now() - started;
    return { stoppedAfterMs, killed: exit.code === 137 && stoppedAfterMs >= timeoutS * 1000, exit };
  }

  /** The container's output so far (podman's k8s-file log: one line per output line, after a timestamp and stream). */
  async log(): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .map((line) => line.replace(/^\S+ (?:stdout|stderr) [FP] /, ''))
      .join('\n');
  }

  async logTail(lines = 30): Promise<string> {
    return (await this.log()).trim().split('\n').slice(-lines).join('\n');
  }

  /** Removes the container (after it stopped). */
  async remove(): Promise<void> {
    await podmanResult(['rm', '--force', '--ignore', '--time', '0', this.containerName]);
  }
}
