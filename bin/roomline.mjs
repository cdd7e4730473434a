#!/usr/bin/env node
// The roomline command. Roomline needs Node >= 22.12; on an older Node (e.g. Debian 12's 20) it re-runs itself with
// the Node 22 that `npm install` put in node_modules (the npm package "node"), so the README's commands work as is.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
const recentEnough = major > 22 || (major === 22 && minor >= 12);

if (recentEnough) {
  const cli = join(root, 'dist', 'cli.mjs');
  if (!existsSync(cli)) {
    process.stderr.write('roomline: dist/cli.mjs is missing: run "npm run build" (npm install does it)\n');
    process.exit(1);
  }
  // compiled code cached on disk: a worker (one per call) starts faster from the second one on
  module.enableCompileCache?.();
  await import(cli);
} else {
  const bundled = [join(root, 'node_modules', '.bin', 'node'), join(root, '..', '.bin', 'node')].find(existsSync);
  if (bundled === undefined) {
    process.stderr.write(
      `roomline: Node ${process.versions.node} is too old (>= 22.12 needed) and no Node 22 was found in ` +
        'node_modules; run "npm install" in the roomline folder, or install Node 22.\n',
    );
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}
