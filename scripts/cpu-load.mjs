// Loads the machine on purpose, to check that the test suite holds on a busy machine (docs/contributing.md):
//
//   node scripts/cpu-load.mjs start [N]   # N processes (default 2) that each burn one core, in the background
//   node scripts/cpu-load.mjs stop        # stops them
//   node scripts/cpu-load.mjs status      # says how many run
//
// The burners are detached, so they outlive this command; their process ids are kept in .lab/cpu-load.pids. Not part
// of CI: it only makes a local run as hard as a shared machine makes it. Plain JavaScript, so it runs on any Node.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pidFile = join(root, '.lab', 'cpu-load.pids');
const BURN = 'for (;;) { Math.sqrt(Math.random()); }';

function running() {
  let pids = [];
  try {
    pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

function stop() {
  const pids = running();
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  rmSync(pidFile, { force: true });
  process.stdout.write(`cpu-load: stopped ${pids.length} burner(s)\n`);
}

function start(count) {
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    process.stderr.write('cpu-load: N must be a whole number from 1 to 64\n');
    process.exit(2);
  }
  const pids = running();
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', BURN], { detached: true, stdio: 'ignore' });
    child.unref();
    pids.push(child.pid);
  }
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pids.join('\n')}\n`);
  process.stdout.write(`cpu-load: ${pids.length} burner(s) running (pids ${pids.join(' ')}); stop with: node scripts/cpu-load.mjs stop\n`);
}

const [command, n] = process.argv.slice(2);
switch (command) {
  case 'start':
    start(n === undefined ? 2 : Number(n));
    break;
  case 'stop':
    stop();
    break;
  case 'status':
    process.stdout.write(`cpu-load: ${running().length} burner(s) running\n`);
    break;
  default:
    process.stderr.write('usage: node scripts/cpu-load.mjs start [N] | stop | status\n');
    process.exit(2);
}
