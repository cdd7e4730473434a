import { existsSync } from 'node:fs';
import { RoomlineError, assertNever } from '../contracts/errors.js';

/**
 * The Chromium builds a worker can run: the distribution's (`system`) and `@sparticuz/chromium` (`sparticuz`, a
 * headless-shell build for serverless, started with its own flags less those that relax web security).
 */
export const CHROMIUM_BUILDS = ['system', 'sparticuz'] as const;
export type ChromiumBuild = (typeof CHROMIUM_BUILDS)[number];

/** The executable of a build, the flags it needs and the headless mode it runs in. */
export interface ResolvedChromium {
  readonly path: string;
  readonly args: readonly string[];
  readonly headless: true | 'shell';
}

/**
 * Debian's `/usr/bin/chromium` is a shell script that sources /etc/chromium.d, which exports API keys and flags into
 * the browser's environment: the browser binary beside it is started instead, with exactly the environment given.
 */
const DEBIAN_LAUNCHERS: Readonly<Record<string, string>> = { '/usr/bin/chromium': '/usr/lib/chromium/chromium' };

function binaryOf(path: string): string {
  const binary = DEBIAN_LAUNCHERS[path];
  return binary !== undefined && existsSync(binary) ? binary : path;
}

/** Finds the executable of `build` (`explicit`: ROOMLINE_CHROMIUM_PATH, for the system build). */
export async function resolveChromium(build: ChromiumBuild, explicit: string | undefined): Promise<ResolvedChromium> {
  switch (build) {
    case 'system':
      return systemChromium(explicit);
    case 'sparticuz':
      if (explicit !== undefined) {
        throw new RoomlineError('BROWSER_FAILED', 'ROOMLINE_CHROMIUM_PATH names a system build: unset it to run @sparticuz/chromium');
      }
      return sparticuzChromium();
    default:
      return assertNever(build, 'Chromium build');
  }
}

function systemChromium(explicit: string | undefined): ResolvedChromium {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new RoomlineError('BROWSER_FAILED', `ROOMLINE_CHROMIUM_PATH ${explicit} does not exist`);
    return { path: binaryOf(explicit), args: [], headless: true };
  }
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return { path: binaryOf(candidate), args: [], headless: true };
  }
  throw new RoomlineError(
    'BROWSER_FAILED',
    'no system Chromium found: install it (Debian/Ubuntu: apt-get install chromium), set ROOMLINE_CHROMIUM_PATH, or ' +
      'run the packaged build with ROOMLINE_CHROMIUM=sparticuz',
  );
}

async function sparticuzChromium(): Promise<ResolvedChromium> {
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    const path = await sparticuz.executablePath();
    // a bot must keep web security: drop the flags that relax it
    const args = sparticuz.args.filter((a) => a !== '--disable-web-security' && a !== '--allow-running-insecure-content');
    return { path, args, headless: 'shell' };
  } catch (error) {
    throw new RoomlineError('BROWSER_FAILED', `@sparticuz/chromium could not be unpacked: ${String(error)}`);
  }
}
