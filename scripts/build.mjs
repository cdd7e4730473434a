// Builds the project: the bot page bundles (browser), the CLI and the client library (Node, ESM), and the type
// declarations of the library. Runs on `npm install` (prepare), before `npm test` and before `npm run demo`.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = Date.now();

await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, 'bot-page'), { recursive: true });

await Promise.all([
  build({
    absWorkingDir: root,
    entryPoints: {
      bot: 'bot-page/main.ts',
      'lab-person': 'bot-page/lab-person/main.ts',
      'lab-direct': 'bot-page/lab-direct/main.ts',
    },
    outdir: 'dist/bot-page',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    // minified: every warm-up parses it, and some run side by side
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  }),
  build({
    absWorkingDir: root,
    entryPoints: { cli: 'worker/cli.ts', index: 'worker/index.ts', contracts: 'contracts/index.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node22',
    sourcemap: 'linked',
    logLevel: 'warning',
  }),
  copyFile(join(root, 'bot-page/index.html'), join(dist, 'bot-page/index.html')),
  copyFile(join(root, 'bot-page/lab-person/index.html'), join(dist, 'bot-page/lab-person.html')),
  copyFile(join(root, 'bot-page/lab-direct/index.html'), join(dist, 'bot-page/lab-direct.html')),
]);

// Type declarations for the library's consumers (`import { enqueueDial } from 'roomline'`).
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

console.log(`roomline: built dist/ in ${Date.now() - started} ms`);
