import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder (the one whose package.json is named roomline), from source or from dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'roomline') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the roomline package root');
    dir = parent;
  }
}

/** The built bot page (made by `npm run build`): what the worker serves its Chromium. */
export function botPageDir(): string {
  return builtDir('bot-page', 'index.html');
}

/** The built lab (emulators, Janus, phones, demo) for the CLI's `lab` and `demo` commands; absent from the image. */
export function labModulePath(): string | undefined {
  const path = join(packageRoot(), 'dist', 'lab.mjs');
  return existsSync(path) ? path : undefined;
}

/** The built warm-pool planner for the CLI's `plan` command (it reads the construct's numbers); absent from the image. */
export function plannerModulePath(): string | undefined {
  const path = join(packageRoot(), 'dist', 'planner.mjs');
  return existsSync(path) ? path : undefined;
}

/** A folder of dist/ made by `npm run build`, checked for one of its files. */
export function builtDir(name: string, marker: string): string {
  const dir = join(packageRoot(), 'dist', name);
  if (!existsSync(join(dir, marker))) {
    throw new Error(`${dir} is not built (no ${marker}): run npm run build`);
  }
  return dir;
}

/** The `roomline` command (bin/roomline.mjs), which the lab starts workers with. */
export function cliPath(): string {
  return join(packageRoot(), 'bin', 'roomline.mjs');
}
