import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomlineError } from '../contracts/errors.js';

/** How Chromium is kept apart from the worker (worker/config.ts: ROOMLINE_CHROMIUM_SANDBOX, _USER, _SETPRIV). */
export interface BrowserIsolation {
  /** Chromium's own sandbox; `false` passes --no-sandbox (an explicit opt-out). @default true */
  readonly sandbox?: boolean;
  /** The unprivileged user Chromium runs as: a name, or uid:gid. @default none: the worker's user (refused for root) */
  readonly user?: string | undefined;
  /** The setpriv(1) that switches to `user` (needs root, or CAP_SETUID and CAP_SETGID). @default "/usr/bin/setpriv" */
  readonly setpriv?: string;
}

/**
 * The whole environment Chromium gets: nothing of the worker's (no AWS credentials or credential endpoints, no
 * ROOMLINE_* configuration, no secrets), only what a browser needs to find its files.
 */
export const BROWSER_ENVIRONMENT_KEYS = ['HOME', 'PATH', 'LANG', 'TMPDIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'] as const;

/** The environment of the browser's processes: its own folders, a plain PATH, nothing of the worker's. */
export function browserEnvironment(home: string): Record<(typeof BROWSER_ENVIRONMENT_KEYS)[number], string> {
  return {
    HOME: home,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TMPDIR: join(home, 'tmp'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
}

/** A user Chromium runs as, as numbers. */
export interface BrowserUser {
  readonly uid: number;
  readonly gid: number;
}

/** A user name (looked up in /etc/passwd) or uid:gid, as numbers. */
export function resolveUser(spec: string): BrowserUser {
  const numeric = /^(\d+):(\d+)$/.exec(spec);
  if (numeric !== null) return { uid: Number(numeric[1]), gid: Number(numeric[2]) };
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === spec);
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new RoomlineError('BROWSER_FAILED', `no user named ${spec} (ROOMLINE_CHROMIUM_USER)`);
  if (Number(uid) === 0) throw new RoomlineError('BROWSER_FAILED', `ROOMLINE_CHROMIUM_USER ${spec} is root`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** setpriv(1) options that switch to `user` with no supplementary groups and no capabilities to pass on. */
export function setprivArgs(user: BrowserUser): string[] {
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--'];
}

/**
 * The browser's home: HOME, TMPDIR and the profile. With a user of its own, made and removed as that user (through
 * the same setpriv that starts the browser) in the system's temporary folder, mode 0700; otherwise inside the worker's
 * temporary folder.
 */
export class BrowserHome {
  private removed: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly asUser: readonly string[] | undefined,
  ) {}

  static async create(workerDir: string, asUser: readonly string[] | undefined): Promise<BrowserHome> {
    if (asUser === undefined) {
      const path = join(workerDir, 'home');
      for (const dir of [path, join(path, 'tmp'), join(path, 'profile')]) await mkdir(dir, { mode: 0o700 });
      return new BrowserHome(path, undefined);
    }
    const [command, ...args] = asUser;
    const made = await run(command!, [...args, 'mktemp', '-d', join(tmpdir(), 'roomline-browser-XXXXXXXX')]);
    const path = made.trim();
    await run(command!, [...args, 'mkdir', '-m', '0700', join(path, 'tmp'), join(path, 'profile')]);
    return new BrowserHome(path, asUser);
  }

  /** Removes the home (as its user, when it has one). Idempotent. */
  remove(): Promise<void> {
    this.removed ??= (async () => {
      if (this.asUser === undefined) return;
      const [command, ...args] = this.asUser;
      await run(command!, [...args, 'rm', '-rf', '--', this.path]).catch(() => undefined);
    })();
    return this.removed;
  }
}

/** Runs a command with a minimal environment; resolves with its output, rejects with its error output. */
function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, timeout: 10_000 }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`)),
    );
  });
}
