// Builds the project: the bot page (browser), the CLI and the client library (Node, ESM), the lab (Node and its
// browser pages), and the type declarations of the library. Runs on `npm install` (prepare), before `npm test` and
// before `npm run demo`.
//
// The bot page is split: each room provider's adapter (and its SDK) is its own chunk, loaded only by a call that needs
// it, so a warm-up parses only the core. The lab is built apart from the worker (dist/lab.mjs, dist/lab-pages/) and is
// left out of the worker image.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { writePrompts } from './prompts.mjs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** `--no-lab`: only what runs in the worker task (the worker image builds so; its context has no lab/ folder). */
const withLab = !process.argv.includes('--no-lab');
/**
 * `--fake-sdks=<dir>`: only the bot page, into `<dir>`, with the closed CPaaS SDKs replaced by the lab's typed fakes
 * (lab/fake-sdks/). A build for end-to-end tests, made by the lab into its own folder: never part of dist/ or the image.
 */
const fakeSdksDir = process.argv.find((a) => a.startsWith('--fake-sdks='))?.slice('--fake-sdks='.length);
const dist = join(root, 'dist');
const started = Date.now();

/** Browser bundles: ES modules with code splitting; SDKs that expect Node's `global` get the browser's. */
const browser = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  splitting: true,
  platform: 'browser',
  target: 'chrome120',
  mainFields: ['browser', 'module', 'main'],
  define: { global: 'globalThis' },
  chunkNames: 'chunks/[name]-[hash]',
  // minified: every warm-up parses the core, and some run side by side
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};

if (fakeSdksDir !== undefined) {
  await mkdir(fakeSdksDir, { recursive: true });
  const alias = { '@daily-co/daily-js': './lab/fake-sdks/daily.ts', '@vonage/client-sdk-video': './lab/fake-sdks/vonage.ts' };
  await Promise.all([
    build({ ...browser, alias, entryPoints: { bot: 'bot-page/main.ts' }, outdir: fakeSdksDir }),
    build({ ...browser, alias, format: 'iife', splitting: false, sourcemap: 'external', entryPoints: { 'page-mode': 'bot-page/page-mode/main.ts' }, outdir: fakeSdksDir }),
    copyFile(join(root, 'bot-page/index.html'), join(fakeSdksDir, 'index.html')),
    writePrompts(join(fakeSdksDir, 'prompts')),
  ]);
  console.log(`roomline: built the bot page with fake SDKs into ${fakeSdksDir} in ${Date.now() - started} ms`);
  process.exit(0);
}

await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, 'bot-page'), { recursive: true });
if (withLab) await mkdir(join(dist, 'lab-pages'), { recursive: true });

/** Node bundles: ES modules, dependencies left to node_modules. */
const node = {
  absWorkingDir: root,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  logLevel: 'warning',
};

// The DTMF detector's AudioWorklet is one script of its own; the bot loads it from a Blob of this text, so it works in
// the bot page and in page mode alike (where relative URLs are the customer's app's).
const worklet = await build({
  ...browser,
  splitting: false,
  format: 'iife',
  sourcemap: false,
  write: false,
  entryPoints: ['bot-page/media/dtmf-worklet.ts'],
  outdir: 'dist/bot-page',
});
// The encoded-transform worker that forwards audio frames between the legs: loaded from a Blob, for the same reason.
const relayWorker = await build({
  ...browser,
  splitting: false,
  format: 'iife',
  sourcemap: false,
  write: false,
  entryPoints: ['bot-page/media/encoded-relay-worker.ts'],
  outdir: 'dist/bot-page',
});
browser.define = {
  ...browser.define,
  __ROOMLINE_DTMF_WORKLET__: JSON.stringify(worklet.outputFiles[0].text),
  __ROOMLINE_RELAY_WORKER__: JSON.stringify(relayWorker.outputFiles[0].text),
};

await Promise.all([
  build({ ...browser, entryPoints: { bot: 'bot-page/main.ts' }, outdir: 'dist/bot-page' }),
  // page mode: one classic script injected into the customer's app before its own scripts (no chunks to fetch)
  build({
    ...browser,
    format: 'iife',
    splitting: false,
    // no sourceMappingURL comment: the script runs inside the app's page, at the app's URL
    sourcemap: 'external',
    entryPoints: { 'page-mode': 'bot-page/page-mode/main.ts' },
    outdir: 'dist/bot-page',
  }),
  build({ ...node, entryPoints: { cli: 'worker/cli.ts', index: 'worker/index.ts', contracts: 'contracts/index.ts' }, outdir: 'dist' }),
  copyFile(join(root, 'bot-page/index.html'), join(dist, 'bot-page/index.html')),
  ...(withLab
    ? [
        build({
          ...browser,
          entryPoints: { person: 'lab/pages/person/main.ts', direct: 'lab/pages/direct/main.ts', 'chime-media': 'lab/pages/chime-media/main.ts', 'chime-app': 'lab/pages/chime-app/main.ts', dashboard: 'lab/pages/dashboard/main.ts' },
          outdir: 'dist/lab-pages',
        }),
        // the warm-pool planner reads infra/ (not in the image's build context), so it is built with the lab
        build({ ...node, entryPoints: { lab: 'lab/index.ts', planner: 'planner/index.ts' }, outdir: 'dist' }),
        copyFile(join(root, 'lab/pages/person.html'), join(dist, 'lab-pages/person.html')),
        copyFile(join(root, 'lab/pages/direct.html'), join(dist, 'lab-pages/direct.html')),
        copyFile(join(root, 'lab/pages/chime-app.html'), join(dist, 'lab-pages/chime-app.html')),
        copyFile(join(root, 'lab/pages/chime-media.html'), join(dist, 'lab-pages/chime-media.html')),
        copyFile(join(root, 'lab/pages/dashboard.html'), join(dist, 'lab-pages/dashboard.html')),
      ]
    : []),
]);

// The dial-in PIN line's prompts, served with the bot page.
const prompts = await writePrompts(join(dist, 'bot-page/prompts'));
console.log(`roomline: PIN prompts: ${prompts}`);

// Type declarations for the library's consumers (`import { enqueueDial } from 'roomline'`).
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

console.log(`roomline: built dist/ in ${Date.now() - started} ms`);
