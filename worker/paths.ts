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

/** The built bot page bundle (made by `npm run build`). */
export function botPageDir(): string {
  const dir = join(packageRoot(), 'dist', 'bot-page');
  if (!existsSync(join(dir, 'bot.js'))) {
    throw new Error(`the bot page is not built (${dir} has no bot.js): run npm run build`);
  }
  return dir;
}

/** The `roomline` command (bin/roomline.mjs), which the lab starts workers with. */
export function cliPath(): string {
  return join(packageRoot(), 'bin', 'roomline.mjs');
}
