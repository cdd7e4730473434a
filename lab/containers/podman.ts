import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

/**
 * Podman as the lab uses it: daemonless, as root, with the flags a machine without systemd needs (cgroupfs, events
 * in a file) and runc as the OCI runtime (crun 1.8 refuses this kind of machine's hybrid cgroup layout). Images and
 * layers live in podman's own store, or in `ROOMLINE_IMAGES_STORE` (CI points it at a fresh folder per run, so a
 * build cache left on the machine cannot make a run pass that would fail on a clean one).
 */
export const PODMAN = '/usr/bin/podman';

/** The folder of a private image store, when one is set. */
export function imageStore(): string | undefined {
  const store = process.env['ROOMLINE_IMAGES_STORE'];
  return store === undefined || store === '' ? undefined : store;
}

/** Podman's global flags: the store, cgroups, events and runtime. */
export function podmanGlobalArgs(): string[] {
  const store = imageStore();
  return [
    ...(store === undefined ? [] : ['--root', join(store, 'storage'), '--runroot', join(store, 'run')]),
    '--cgroup-manager=cgroupfs',
    '--events-backend=file',
    '--runtime=runc',
  ];
}

/**
 * Resource limits every container and build step gets. Fargate gives a task 65535 open files; this machine's hard
 * limit may be lower, and podman caps its own (and so every container's) process limit at 32768: a container asking
 * for more than its starter has fails at once (`setrlimit: operation not permitted`).
 */
export function ulimitArgs(): string[] {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (name: string, fallback: number) => {
    const line = limits.split('\n').find((l) => l.startsWith(name));
    const value = line?.trim().split(/\s{2,}/)[2];
    return value === undefined || value === 'unlimited' ? fallback : Number(value);
  };
  const nofile = Math.min(65_535, hard('Max open files', 65_535));
  const nproc = Math.min(32_768, hard('Max processes', 32_768));
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}

export interface PodmanResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs podman to completion (global flags first); never throws for a non-zero exit. */
export async function podmanResult(
  args: readonly string[],
  options: { readonly input?: string; readonly onOutput?: (chunk: string) => void } = {},
): Promise<PodmanResult> {
  if (!existsSync(PODMAN)) {
    throw new Error(`podman is not installed (${PODMAN}): npm run test:images installs it (scripts/system-deps.mjs images)`);
  }
  const child = spawn(PODMAN, [...podmanGlobalArgs(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onOutput?.(chunk.toString());
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    options.onOutput?.(chunk.toString());
  });
  child.stdin.end(options.input ?? '');
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Runs podman; throws with the command and the end of its output when it fails. */
export async function podman(args: readonly string[]): Promise<string> {
  const result = await podmanResult(args);
  if (result.code !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`podman ${args.slice(0, 3).join(' ')} ... failed (exit ${result.code}):\n${tail}`);
  }
  return result.stdout;
}

/** Whether an image exists in the store. */
export async function imageExists(reference: string): Promise<boolean> {
  return (await podmanResult(['image', 'exists', reference])).code === 0;
}

/** An image's size in bytes, as `podman images` reports it (the sum of its layers, uncompressed). */
export async function imageSize(reference: string): Promise<number> {
  const size = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', reference])).trim());
  if (!Number.isFinite(size)) throw new Error(`podman reported no size for ${reference}`);
  return size;
}

/** One `podman build`: how long it took, how many of its steps ran and how many came from the layer cache. */
export interface BuildResult {
  readonly tag: string;
  readonly seconds: number;
  /** Steps that make a layer (every instruction but FROM). */
  readonly steps: number;
  /** Of those, the ones taken from the layer cache. */
  readonly cachedSteps: number;
  readonly sizeBytes: number;
  readonly logFile: string;
}

export interface BuildOptions {
  readonly tag: string;
  readonly context: string;
  /** The Dockerfile, relative to the context. @default "Dockerfile" */
  readonly file?: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Where the build's output goes. */
  readonly logFile: string;
}

/**
 * Builds an image from its Dockerfile, unchanged: base images only from the local store (`--pull=never`: no
 * registry is reachable, and a missing base must say so), RUN steps on the host's network (apt and npm reach
 * Debian's mirror and the npm registry as the machine does). A failed build throws with the failing step and the
 * end of its output.
 */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const log = createWriteStream(options.logFile);
  const result = await podmanResult(
    [
      'build',
      '--pull=never',
      '--network=host',
      '--layers',
      ...ulimitArgs(),
      ...Object.entries(options.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
      '--file',
      join(options.context, options.file ?? 'Dockerfile'),
      '--tag',
      options.tag,
      options.context,
    ],
    { onOutput: (chunk) => log.write(chunk) },
  );
  await new Promise((resolve) => log.end(resolve));
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.code !== 0) {
    const failed = /Error: building at STEP "([^"]{0,300})/.exec(output)?.[1] ?? 'a step';
    const tail = output.trim().split('\n').slice(-12).join('\n');
    throw new Error(`the image ${options.tag} did not build: ${failed} failed (log: ${options.logFile}):\n${tail}`);
  }
  const steps = [...output.matchAll(/^(?:\[\d+\/\d+\] )?STEP \d+\/\d+: (\S+)/gm)].filter((m) => m[1] !== 'FROM').length;
  const cachedSteps = [...output.matchAll(/^--> Using cache /gm)].length;
  return {
    tag: options.tag,
    seconds: (Date.now() - started) / 1000,
    steps,
    cachedSteps,
    sizeBytes: await imageSize(options.tag),
    logFile: options.logFile,
  };
}
